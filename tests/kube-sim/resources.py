"""The resource table and the discovery documents built from it."""

# The version kube-sim models, measured against the real v1.26.0 server (FIDELITY.md). kubectl
# v1.32 sends the access reviews to such a server as protobuf: protowire.py reads them.
VERSION = {'major': '1', 'minor': '26', 'gitVersion': 'v1.26.0-kube-sim',
           'gitCommit': '0000000000000000000000000000000000000000', 'gitTreeState': 'clean',
           'buildDate': '2022-12-08T10:08:09Z', 'goVersion': 'go1.19.4', 'compiler': 'gc',
           'platform': 'linux/amd64'}

COMMON_FIELDS = ('metadata.name', 'metadata.namespace')


class ResourceInfo:
    def __init__(self, plural, kind, group, namespaced, short, fields, status=True):
        self.plural = plural
        self.kind = kind
        self.group = group
        self.version = 'v1'
        self.namespaced = namespaced
        self.short = short
        # ObjectMetaFieldsSet: metadata.namespace only for namespaced resources
        self.fields = COMMON_FIELDS[:1 + bool(namespaced)] + fields
        self.has_status = status
        self.singular = kind.lower()
        self.api_version = (group + '/v1') if group else 'v1'
        self.qualified = plural + ('.' + group if group else '')

    def verbs(self):
        return ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']


RESOURCES = {
    'nodes': ResourceInfo('nodes', 'Node', '', False, ['no'], ('spec.unschedulable',)),
    'namespaces': ResourceInfo('namespaces', 'Namespace', '', False, ['ns'], ('status.phase',)),
    'pods': ResourceInfo('pods', 'Pod', '', True, ['po'],
                         ('spec.nodeName', 'status.phase', 'spec.restartPolicy',
                          'spec.schedulerName', 'spec.serviceAccountName', 'status.podIP',
                          'status.nominatedNodeName', 'spec.hostNetwork')),
    'events': ResourceInfo('events', 'Event', '', True, ['ev'],
                           ('involvedObject.kind', 'involvedObject.namespace',
                            'involvedObject.name', 'involvedObject.uid',
                            'involvedObject.apiVersion', 'involvedObject.resourceVersion',
                            'involvedObject.fieldPath', 'reason', 'reportingComponent',
                            'source', 'type'), status=False),
    'daemonsets': ResourceInfo('daemonsets', 'DaemonSet', 'apps', True, ['ds'], ()),
    # admission objects (admission.py): their spec is kept as sent, not validated in depth
    'priorityclasses': ResourceInfo('priorityclasses', 'PriorityClass', 'scheduling.k8s.io', False,
                                    ['pc'], (), status=False),
    'limitranges': ResourceInfo('limitranges', 'LimitRange', '', True, ['limits'], (), status=False),
    'resourcequotas': ResourceInfo('resourcequotas', 'ResourceQuota', '', True, ['quota'], ()),
    'secrets': ResourceInfo('secrets', 'Secret', '', True, [], ('type',), status=False),
}
GROUPS = ('apps', 'authorization.k8s.io', 'scheduling.k8s.io')


def _resource_list(group_version, infos):
    res = []
    for r in infos:
        entry = {'name': r.plural, 'singularName': r.singular, 'namespaced': r.namespaced,
                 'kind': r.kind, 'verbs': r.verbs(), 'shortNames': r.short}
        if r.plural == 'daemonsets':
            entry['categories'] = ['all']
        res.append(entry)
        if r.has_status:
            res.append({'name': r.plural + '/status', 'singularName': '', 'namespaced': r.namespaced,
                        'kind': r.kind, 'verbs': ['get', 'patch', 'update']})
    return {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': group_version,
            'resources': res}


def discovery(path):
    """Returns the discovery document for path, or None."""
    if path == '/version':
        return VERSION
    if path == '/api':
        return {'kind': 'APIVersions', 'versions': ['v1'],
                'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0',
                                                'serverAddress': '127.0.0.1:6443'}]}
    if path == '/apis':
        groups = []
        for g in GROUPS:
            gv = {'groupVersion': g + '/v1', 'version': 'v1'}
            groups.append({'name': g, 'versions': [gv], 'preferredVersion': gv})
        return {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': groups}
    if path == '/apis/apps':
        gv = {'groupVersion': 'apps/v1', 'version': 'v1'}
        return {'kind': 'APIGroup', 'apiVersion': 'v1', 'name': 'apps', 'versions': [gv],
                'preferredVersion': gv}
    if path == '/api/v1':
        return _resource_list('v1', [r for r in RESOURCES.values() if not r.group])
    if path == '/apis/apps/v1':
        return _resource_list('apps/v1', [RESOURCES['daemonsets']])
    if path == '/apis/scheduling.k8s.io/v1':
        return _resource_list('scheduling.k8s.io/v1', [RESOURCES['priorityclasses']])
    if path == '/apis/scheduling.k8s.io':
        gv = {'groupVersion': 'scheduling.k8s.io/v1', 'version': 'v1'}
        return {'kind': 'APIGroup', 'apiVersion': 'v1', 'name': 'scheduling.k8s.io', 'versions': [gv],
                'preferredVersion': gv}
    return None
