"""Kubernetes RBAC from manifests: Roles, ClusterRoles, their bindings, ServiceAccounts.

Evaluated as the real RBAC authorizer does (k8s.io/kubernetes/plugin/pkg/auth/authorizer/
rbac): a ClusterRoleBinding grants its ClusterRole everywhere; a RoleBinding grants its
Role, or the ClusterRole it references, inside the binding's namespace only.  A rule
matches when verb, API group, resource (`*`, `pods`, `pods/status`, `*/status`) and,
when it lists any, resourceNames all match.  Subjects: User, Group, ServiceAccount (a
RoleBinding's ServiceAccount without a namespace means the binding's namespace).

The bootstrap policy every cluster has is added (system:discovery,
system:public-info-viewer and system:basic-user bound to system:authenticated), so
discovery and SelfSubjectAccessReview work for any authenticated user.
"""

import yamlsub

SA_PREFIX = 'system:serviceaccount:'

BOOTSTRAP = '''
kind: ClusterRole
metadata: {name: "system:discovery"}
rules:
- nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                    "/openapi/*", "/readyz", "/version", "/version/"]
  verbs: ["get"]
---
kind: ClusterRole
metadata: {name: "system:public-info-viewer"}
rules:
- nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"]
  verbs: ["get"]
---
kind: ClusterRole
metadata: {name: "system:basic-user"}
rules:
- apiGroups: ["authorization.k8s.io"]
  resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]
  verbs: ["create"]
---
kind: ClusterRoleBinding
metadata: {name: "system:discovery"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:discovery"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
---
kind: ClusterRoleBinding
metadata: {name: "system:public-info-viewer"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:public-info-viewer"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
---
kind: ClusterRoleBinding
metadata: {name: "system:basic-user"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:basic-user"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
'''

RBAC_KINDS = ('Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding')


class PolicyError(ValueError):
    pass


class Attrs:
    """Request attributes as the authorizer sees them."""
    __slots__ = ('verb', 'group', 'resource', 'subresource', 'name', 'namespace', 'path')

    def __init__(self, verb, group='', resource='', subresource='', name='', namespace='',
                 path=None):
        self.verb, self.group, self.resource, self.subresource = verb, group, resource, subresource
        self.name, self.namespace, self.path = name, namespace, path

    @property
    def is_resource(self):
        return self.path is None

    @property
    def combined(self):
        return self.resource + ('/' + self.subresource if self.subresource else '')


def sa_user(namespace, name):
    return (SA_PREFIX + namespace + ':' + name,
            ['system:serviceaccounts', 'system:serviceaccounts:' + namespace, 'system:authenticated'])


class Policy:
    def __init__(self):
        self.roles = {}             # (namespace, name) -> rules
        self.cluster_roles = {}     # name -> rules
        self.bindings = []          # (namespace, binding dict); namespace '' = cluster
        self.service_accounts = []  # (namespace, name)
        self.load_text(BOOTSTRAP, '<bootstrap>')

    @classmethod
    def from_file(cls, path, default_namespace='default'):
        p = cls()
        with open(path) as f:
            p.load_text(f.read(), path, default_namespace)
        return p

    def load_text(self, text, origin, default_namespace='default'):
        try:
            docs = yamlsub.load_all(text)
        except yamlsub.YamlError as e:
            raise PolicyError('%s: %s' % (origin, e))
        for i, doc in enumerate(_flatten(docs)):
            try:
                self.add(doc, default_namespace)
            except PolicyError as e:
                raise PolicyError('%s: document %d: %s' % (origin, i + 1, e))

    def add(self, doc, default_namespace):
        if not isinstance(doc, dict):
            raise PolicyError('not a mapping')
        kind = doc.get('kind')
        meta = doc.get('metadata') or {}
        name = meta.get('name')
        if kind not in RBAC_KINDS + ('ServiceAccount',):
            return          # Namespaces and the like: not RBAC's business
        if not isinstance(name, str) or not name:
            raise PolicyError('%s without metadata.name' % kind)
        ns = meta.get('namespace') or default_namespace
        if kind == 'ServiceAccount':
            self.service_accounts.append((ns, name))
        elif kind == 'ClusterRole':
            self.cluster_roles[name] = _rules(doc, True)
        elif kind == 'Role':
            self.roles[(ns, name)] = _rules(doc, False)
        else:
            ref = doc.get('roleRef') or {}
            if ref.get('kind') not in ('Role', 'ClusterRole') or not ref.get('name'):
                raise PolicyError('%s %s: roleRef needs kind Role or ClusterRole and a name' % (kind, name))
            if kind == 'ClusterRoleBinding' and ref['kind'] != 'ClusterRole':
                raise PolicyError('ClusterRoleBinding %s: roleRef.kind: Unsupported value: "Role": '
                                  'supported values: "ClusterRole"' % name)
            subjects = doc.get('subjects') or []
            if not isinstance(subjects, list):
                raise PolicyError('%s %s: subjects must be a list' % (kind, name))
            b = {'kind': kind, 'name': name, 'roleRef': ref, 'subjects': subjects}
            self.bindings.append(('' if kind == 'ClusterRoleBinding' else ns, b))

    # ---- evaluation -----------------------------------------------------------------
    def authorize(self, user, groups, attrs):
        """(allowed, reason) with the real authorizer's reason for an allow."""
        # ClusterRoleBindings first, then the RoleBindings of the namespace, as the real
        # authorizer visits them (the first allowing rule names the reason)
        for bns, b in sorted(self.bindings, key=lambda x: x[0] != ''):
            if bns and (not attrs.is_resource or attrs.namespace != bns):
                continue
            subject = next((s for s in b['subjects'] if _applies(s, user, groups, bns)), None)
            if subject is None:
                continue
            for rule in self._role_rules(b['roleRef'], bns):
                if rule_allows(rule, attrs):
                    return True, 'RBAC: allowed by %s' % _describe(b, bns, subject)
        return False, ''

    def rules_for(self, user, groups, namespace):
        """Every rule granted to the user that applies in namespace (cluster-wide ones too)."""
        out = []
        for bns, b in self.bindings:
            if bns and bns != namespace:
                continue
            if any(_applies(s, user, groups, bns) for s in b['subjects']):
                out.extend(self._role_rules(b['roleRef'], bns))
        return out

    def _role_rules(self, ref, bns):
        if ref['kind'] == 'ClusterRole':
            return self.cluster_roles.get(ref['name'], [])
        return self.roles.get((bns, ref['name']), [])


def rule_allows(rule, a):
    if not _has(rule.get('verbs'), a.verb):
        return False
    if not a.is_resource:
        return _url_matches(rule.get('nonResourceURLs') or [], a.path)
    if not rule.get('resources') or not _has(rule.get('apiGroups'), a.group):
        return False
    if not _resource_matches(rule['resources'], a.combined, a.subresource):
        return False
    names = rule.get('resourceNames') or []
    return not names or a.name in names


def _has(lst, v):
    lst = lst or []
    return '*' in lst or v in lst


def _resource_matches(resources, combined, sub):
    for r in resources:
        if r == '*' or r == combined:
            return True
        if sub and r == '*/' + sub:
            return True
    return False


def _url_matches(urls, path):
    for u in urls:
        if u == '*' or u == path or (u.endswith('*') and path.startswith(u[:-1])):
            return True
    return False


def _applies(s, user, groups, bns):
    kind = s.get('kind')
    if kind == 'User':
        return s.get('name') == user
    if kind == 'Group':
        return s.get('name') in groups
    if kind == 'ServiceAccount':
        ns = s.get('namespace') or bns
        return bool(ns) and user == SA_PREFIX + ns + ':' + str(s.get('name'))
    return False


def _describe(b, bns, s):
    if s.get('kind') == 'ServiceAccount':
        who = '%s "%s/%s"' % (s['kind'], s.get('name'), s.get('namespace') or bns)
    else:
        who = '%s "%s"' % (s.get('kind'), s.get('name'))
    name = b['name'] + ('/' + bns if bns else '')
    return '%s "%s" of %s "%s" to %s' % (b['kind'], name, b['roleRef']['kind'],
                                         b['roleRef']['name'], who)


def _rules(doc, cluster):
    rules = doc.get('rules') or []
    if not isinstance(rules, list):
        raise PolicyError('rules must be a list')
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or not isinstance(r.get('verbs'), list) or not r['verbs']:
            raise PolicyError('rules[%d].verbs: Required value: verbs must contain at least one value' % i)
        for k in ('apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'):
            if r.get(k) is not None and not isinstance(r[k], list):
                raise PolicyError('rules[%d].%s must be a list' % (i, k))
            if any(not isinstance(x, str) for x in r.get(k) or []):
                raise PolicyError('rules[%d].%s must be a list of strings' % (i, k))
        if r.get('nonResourceURLs'):
            if not cluster:
                raise PolicyError('rules[%d].nonResourceURLs: Invalid value: %s: namespaced rules '
                                  'cannot apply to non-resource URLs' % (i, r['nonResourceURLs']))
            if r.get('resources') or r.get('apiGroups'):
                raise PolicyError('rules[%d].nonResourceURLs: Invalid value: %s: rules cannot apply '
                                  'to both regular resources and non-resource URLs' % (i, r['nonResourceURLs']))
        elif not r.get('resources'):
            raise PolicyError('rules[%d].resources: Required value: resource rules must supply at '
                              'least one resource' % i)
        elif not r.get('apiGroups'):
            raise PolicyError('rules[%d].apiGroups: Required value: resource rules must supply at '
                              'least one api group' % i)
    return rules


def _flatten(docs):
    for d in docs:
        if isinstance(d, dict) and d.get('kind') == 'List':
            for item in d.get('items') or []:
                yield item
        elif d is not None:
            yield d
