"""Authentication (bearer tokens, client certificates) and a simple RBAC policy.

Policy file (JSON, --rbac FILE), documented in README.md:
  {"tokens": {"TOKEN": "user" | {"user": "name", "groups": ["g"]}},
   "rules": [{"users": ["name"], "groups": ["g"], "verbs": ["get", "list"],
              "resources": ["nodes", "daemonsets", "nodes/status"],
              "namespaces": ["*"] }]}
"namespaces": [""] means cluster scope only; "*" in any list matches everything.
Members of group system:masters are always allowed.  Without --rbac every
authenticated user may do everything.
"""

import json


class PolicyError(ValueError):
    pass


class Auth:
    def __init__(self, admin_token, policy=None):
        self.tokens = {admin_token: ('admin', ['system:masters', 'system:authenticated'])}
        self.rules = None
        if policy is not None:
            self.load(policy)

    def load(self, policy):
        if not isinstance(policy, dict):
            raise PolicyError('the policy is a JSON object')
        for tok, who in (policy.get('tokens') or {}).items():
            if isinstance(who, str):
                self.tokens[tok] = (who, ['system:authenticated'])
            elif isinstance(who, dict) and who.get('user'):
                self.tokens[tok] = (who['user'], list(who.get('groups') or []) + ['system:authenticated'])
            else:
                raise PolicyError('token %r: expected a user name or {"user": ...}' % tok[:6])
        rules = policy.get('rules')
        if rules is not None:
            if not isinstance(rules, list):
                raise PolicyError('"rules" is a list')
            for i, r in enumerate(rules):
                for k in ('verbs', 'resources'):
                    if not isinstance(r.get(k), list):
                        raise PolicyError('rules[%d]: "%s" must be a list' % (i, k))
            self.rules = rules

    @classmethod
    def from_file(cls, admin_token, path):
        with open(path) as f:
            try:
                return cls(admin_token, json.load(f))
            except ValueError as e:
                raise PolicyError('%s: %s' % (path, e))

    def user_for_token(self, token):
        return self.tokens.get(token)

    def allowed(self, user, groups, verb, resource, namespace):
        if self.rules is None or 'system:masters' in groups:
            return True
        for r in self.rules:
            if not (user in (r.get('users') or []) or set(groups) & set(r.get('groups') or [])
                    or '*' in (r.get('users') or [])):
                continue
            if not _has(r['verbs'], verb) or not _has(r['resources'], resource):
                continue
            nss = r.get('namespaces', ['*'])
            if _has(nss, namespace or ''):
                return True
        return False


def _has(lst, v):
    return '*' in lst or v in lst


def cert_user(peercert):
    """(user, groups) from a verified client certificate: CN is the user, O the groups."""
    if not peercert:
        return None
    user, groups = None, []
    for rdn in peercert.get('subject', ()):
        for k, v in rdn:
            if k == 'commonName':
                user = v
            elif k == 'organizationName':
                groups.append(v)
    return (user, groups + ['system:authenticated']) if user else None
