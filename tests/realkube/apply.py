"""Apply Kubernetes manifests (the kinds etc/clyde/rbac.yaml uses) and get a
ServiceAccount token from the TokenRequest API, through kclient (no kubectl)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kube-sim'))

import yamlsub  # noqa: E402
from kclient import ApiError  # noqa: E402

RBAC = '/apis/rbac.authorization.k8s.io/v1'
# kind -> (collection path; '%s' is the namespace when namespaced)
PATHS = {
    'ServiceAccount': '/api/v1/namespaces/%s/serviceaccounts',
    'Namespace': '/api/v1/namespaces',
    'Secret': '/api/v1/namespaces/%s/secrets',
    'ClusterRole': RBAC + '/clusterroles',
    'ClusterRoleBinding': RBAC + '/clusterrolebindings',
    'Role': RBAC + '/namespaces/%s/roles',
    'RoleBinding': RBAC + '/namespaces/%s/rolebindings',
}


def collection(doc):
    kind = doc.get('kind')
    if kind not in PATHS:
        raise ValueError('cannot apply kind %r (known: %s)' % (kind, ', '.join(sorted(PATHS))))
    path = PATHS[kind]
    if '%s' in path:
        path = path % (doc['metadata'].get('namespace') or 'default')
    return path


def apply_doc(client, doc):
    """Creates the object, or replaces it when it exists.  Returns 'created'/'configured'."""
    path = collection(doc)
    try:
        client.call('POST', path, doc)
        return 'created'
    except ApiError as e:
        if e.code != 409:
            raise
    item = path + '/' + doc['metadata']['name']
    cur = client.get(item)
    new = dict(doc)
    new['metadata'] = dict(doc['metadata'], resourceVersion=cur['metadata']['resourceVersion'])
    client.call('PUT', item, new)
    return 'configured'


def apply_file(client, path):
    """Applies every document of a YAML file; returns ['Kind/name created', ...]."""
    with open(path) as f:
        docs = [d for d in yamlsub.load_all(f.read()) if d]
    return ['%s/%s %s' % (d['kind'], d['metadata']['name'], apply_doc(client, d)) for d in docs]


def sa_token(client, namespace, name, seconds=7200):
    """A bound token for the ServiceAccount from the TokenRequest API."""
    doc = client.call('POST', '/api/v1/namespaces/%s/serviceaccounts/%s/token' % (namespace, name),
                      {'apiVersion': 'authentication.k8s.io/v1', 'kind': 'TokenRequest',
                       'spec': {'expirationSeconds': seconds}})
    return doc['status']['token']
