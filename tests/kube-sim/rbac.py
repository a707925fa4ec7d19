"""Authentication (bearer tokens, client certificates) and a simple RBAC policy.

Policy file (JSON, --rbac FILE), documented in README.md:
  {"tokens": {"TOKEN": "user" | {"user": "name", "groups": ["g"]}},
   "rules": [{"users": ["name"], "groups": ["g"], "verbs": ["get", "list"],
              "resources": ["nodes", "daemonsets", "nodes/status"],
              "namespaces": ["*"] }]}
"namespaces": [""] means cluster scope only; "*" in any list matches everything.
Members of group system:masters are always allowed.  Without a policy every
authenticated user may do everything.  Kubernetes RBAC manifests (YAML) are evaluated
by rbacyaml.Policy; both kinds may be loaded, a request passes when either allows it.
"""

import json

import rbacyaml
from rbacyaml import PolicyError  # noqa: F401  (one error type for both formats)


# what the bootstrap role system:public-info-viewer lets anyone (anonymous too) get
PUBLIC_INFO = ('/healthz', '/livez', '/readyz', '/version', '/version/')


class Auth:
    def __init__(self, admin_token, policy=None):
        self.tokens = {admin_token: ('admin', ['system:masters', 'system:authenticated'])}
        self.rules = None
        self.rbac = None
        if policy is not None:
            self.load(policy)

    def load_rbac_yaml(self, path, default_namespace='default'):
        """Adds a file of RBAC manifests (several files accumulate)."""
        if self.rbac is None:
            self.rbac = rbacyaml.Policy()
        with open(path) as f:
            self.rbac.load_text(f.read(), path, default_namespace)

    def add_service_account(self, namespace, name, token):
        self.tokens[token] = rbacyaml.sa_user(namespace, name)

    @property
    def enforcing(self):
        return self.rules is not None or self.rbac is not None

    def authorize(self, user, groups, attrs):
        """(allowed, reason) for rbacyaml.Attrs, as an authorizer chain answers.  An
        anonymous request may read the public information (system:public-info-viewer)
        and nothing else, with or without a policy."""
        if 'system:unauthenticated' in groups:
            return (not attrs.is_resource and attrs.verb == 'get' and attrs.path in PUBLIC_INFO), ''
        if 'system:masters' in groups or not self.enforcing:
            return True, ''
        if self.rbac is not None:
            ok, reason = self.rbac.authorize(user, groups, attrs)
            if ok:
                return ok, reason
        if self.rules is not None:
            if not attrs.is_resource:
                return True, ''     # the JSON policy never restricted discovery
            if self.allowed(user, groups, attrs.verb, attrs.combined, attrs.namespace):
                return True, ''
        return False, ''

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
        """A JSON policy, or RBAC manifests when the file is not a JSON object."""
        with open(path) as f:
            text = f.read()
        if not text.lstrip().startswith('{'):
            auth = cls(admin_token)
            auth.load_rbac_yaml(path)
            return auth
        try:
            return cls(admin_token, json.loads(text))
        except ValueError as e:
            raise PolicyError('%s: %s' % (path, e))

    def rules_for(self, user, groups, namespace):
        """(resourceRules, nonResourceRules) a SelfSubjectRulesReview lists."""
        if 'system:masters' in groups or not self.enforcing:
            return ([{'verbs': ['*'], 'apiGroups': ['*'], 'resources': ['*']}],
                    [{'verbs': ['*'], 'nonResourceURLs': ['*']}])
        res, nonres = [], []
        if self.rbac is not None:
            for rule in self.rbac.rules_for(user, groups, namespace):
                if rule.get('nonResourceURLs'):
                    nonres.append({'verbs': rule['verbs'], 'nonResourceURLs': rule['nonResourceURLs']})
                else:
                    r = {k: rule[k] for k in ('verbs', 'apiGroups', 'resources', 'resourceNames')
                         if rule.get(k)}
                    res.append(r)
        for r in self.rules or []:
            if user in (r.get('users') or []) or set(groups) & set(r.get('groups') or []) \
                    or '*' in (r.get('users') or []):
                if _has(r.get('namespaces', ['*']), namespace) or _has(r.get('namespaces', ['*']), ''):
                    res.append({'verbs': r['verbs'], 'apiGroups': ['*'], 'resources': r['resources']})
        return res, nonres

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
