"""The differential fidelity corpus: requests of the kinds clyde-seed sends and receives,
and invalid variants of each field, as (id, who, method, path, body, content type).

`who` is 'admin' (system:masters) or 'sa' (the rbac.yaml ServiceAccount).  Names are
fixed so both servers see the same requests; cases run in order (a create comes before
the duplicate create that must get 409)."""

import copy
import json

NS = 'default'
DS = '/apis/apps/v1/namespaces/%s/daemonsets' % NS
PODS = '/api/v1/namespaces/%s/pods' % NS
NODES = '/api/v1/nodes'
MERGE, STRATEGIC, JSONPATCH = ('application/merge-patch+json', 'application/strategic-merge-patch+json',
                               'application/json-patch+json')
SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'


def security():
    return {'allowPrivilegeEscalation': False, 'readOnlyRootFilesystem': True, 'runAsNonRoot': True,
            'runAsUser': 65532, 'runAsGroup': 65532, 'capabilities': {'drop': ['ALL']},
            'seccompProfile': {'type': 'RuntimeDefault'}}


def container(name, image, cmd, ro=True):
    m = {'name': 'bin', 'mountPath': '/clyde-bin'}
    if ro:
        m['readOnly'] = True
    return {'name': name, 'image': image, 'imagePullPolicy': 'IfNotPresent', 'command': cmd,
            'volumeMounts': [m],
            'resources': {'requests': {'cpu': '10m', 'memory': '16Mi'},
                          'limits': {'cpu': '100m', 'memory': '64Mi'}},
            'securityContext': security()}


def daemonset(name, nodes=('node-0001', 'node-0002')):
    """The shape src/manifest.c builds: one init container copying busybox, one container
    per image sleeping, one nodeSelectorTerm per seeder."""
    labels = {'app.kubernetes.io/managed-by': 'clyde-seed', 'clyde-seed.io/run': name}
    return {
        'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
        'metadata': {'name': name, 'namespace': NS, 'labels': dict(labels)},
        'spec': {
            'selector': {'matchLabels': dict(labels)},
            'updateStrategy': {'type': 'OnDelete'},
            'template': {
                'metadata': {'labels': dict(labels)},
                'spec': {
                    'automountServiceAccountToken': False, 'enableServiceLinks': False,
                    'terminationGracePeriodSeconds': 1, 'restartPolicy': 'Always',
                    'nodeSelector': {'p2p-seeder': 'true'},
                    'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {
                        'nodeSelectorTerms': [{'matchFields': [{'key': 'metadata.name', 'operator': 'In',
                                                                'values': [n]}]} for n in nodes]}}},
                    'tolerations': [{'operator': 'Exists'}],
                    'securityContext': {'runAsNonRoot': True, 'runAsUser': 65532, 'runAsGroup': 65532,
                                        'seccompProfile': {'type': 'RuntimeDefault'}},
                    'volumes': [{'name': 'bin', 'emptyDir': {'sizeLimit': '16Mi'}}],
                    'initContainers': [container('clyde-helper', 'busybox:1.36',
                                                 ['/bin/busybox', 'cp', '/bin/busybox', '/clyde-bin/sleep'], False)],
                    'containers': [container('img-0', 'nginx:1.27', ['/clyde-bin/sleep', '3600']),
                                   container('img-1', 'redis:7.4', ['/clyde-bin/sleep', '3600'])]}}}}


def setp(obj, path, value):
    """Sets a dotted path ('spec.template.spec.containers.0.name'); value DELETE removes."""
    keys = path.split('.')
    cur = obj
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    last = keys[-1]
    if isinstance(cur, list):
        if value is DELETE:
            del cur[int(last)]
        else:
            cur[int(last)] = value
    elif value is DELETE:
        del cur[last]
    else:
        cur[last] = value
    return obj


DELETE = object()
TS = 'spec.template.spec'
C0 = TS + '.containers.0'
I0 = TS + '.initContainers.0'
TERM0 = TS + '.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0'

# (field path, bad value): each one a DaemonSet create the server refuses (or accepts).
DS_VARIANTS = [
    ('metadata.name', 'Bad_Name'), ('metadata.name', 'x' * 254), ('metadata.name', '-lead'),
    ('metadata.name', ''), ('metadata.labels', {'bad key!': 'v'}), ('metadata.labels', {'k': 'v' * 64}),
    ('metadata.labels', {'a/b/c': 'v'}), ('metadata.labels', {'k': '-bad'}),
    ('metadata.annotations', {'Bad Key': 'v'}), ('metadata.namespace', 'other'),
    ('spec.selector', DELETE), ('spec.selector', {'matchLabels': {'other': 'x'}}),
    ('spec.selector', {}), ('spec.selector.matchLabels', {'bad key!': 'x'}),
    ('spec.updateStrategy.type', 'Sometimes'), ('spec.minReadySeconds', -1),
    ('spec.revisionHistoryLimit', -1), ('spec.template.metadata.labels', {'x': 'y'}),
    (TS + '.restartPolicy', 'Never'), (TS + '.restartPolicy', 'Sometimes'),
    (TS + '.terminationGracePeriodSeconds', -5), (TS + '.containers', []), (TS + '.containers', DELETE),
    (TS + '.volumes.0.name', 'Bad_Vol'), (TS + '.volumes.0.emptyDir.sizeLimit', '-1Mi'),
    (TS + '.volumes.0.emptyDir', DELETE), (TS + '.volumes', []),
    (TS + '.nodeSelector', {'bad key!': 'x'}), (TS + '.nodeSelector', {'k': 'bad value!'}),
    (TS + '.tolerations.0.operator', 'Maybe'),
    (TS + '.tolerations', [{'key': 'k', 'operator': 'Exists', 'value': 'v'}]),
    (TS + '.tolerations', [{'key': 'k', 'operator': 'Equal', 'value': 'v', 'effect': 'Sometimes'}]),
    (TS + '.tolerations', [{'operator': 'Equal', 'value': 'v'}]),
    (TS + '.tolerations', [{'key': 'bad key!', 'operator': 'Exists'}]),
    (TS + '.tolerations', [{'key': 'k', 'operator': 'Exists', 'effect': 'NoSchedule', 'tolerationSeconds': 5}]),
    (TS + '.priorityClassName', 'no-such-class'), (TS + '.priorityClassName', 'Bad_Class'),
    (TS + '.imagePullSecrets', [{'name': ''}]), (TS + '.imagePullSecrets', [{'name': 'Bad_Secret'}]),
    (TS + '.securityContext.runAsUser', -1), (TS + '.securityContext.seccompProfile.type', 'Weird'),
    (TS + '.securityContext.seccompProfile', {'type': 'Localhost'}),
    (TERM0 + '.matchFields.0.values', ['node-0001', 'node-0002']),
    (TERM0 + '.matchFields.0.values', []), (TERM0 + '.matchFields.0.key', 'metadata.namespace'),
    (TERM0 + '.matchFields.0.key', 'spec.nodeName'), (TERM0 + '.matchFields.0.operator', 'Exists'),
    (TERM0 + '.matchFields.0.operator', 'Gt'), (TERM0 + '.matchFields.0.operator', 'Bogus'),
    (TERM0 + '.matchFields.0.values', ['Bad_Node!']), (TERM0, {}),
    (TERM0, {'matchExpressions': [{'key': 'k', 'operator': 'In', 'values': []}]}),
    (TERM0, {'matchExpressions': [{'key': 'k', 'operator': 'Gt', 'values': ['x']}]}),
    (TERM0, {'matchExpressions': [{'key': 'k', 'operator': 'Exists', 'values': ['x']}]}),
    (TERM0, {'matchExpressions': [{'key': 'bad key!', 'operator': 'Exists'}]}),
    (TS + '.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms', []),
    (C0 + '.name', 'Bad_Name'), (C0 + '.name', ''), (C0 + '.name', 'x' * 64), (C0 + '.name', 'clyde-helper'),
    (C0 + '.image', ''), (C0 + '.image', DELETE), (C0 + '.image', ' nginx'), (C0 + '.image', 'nginx '),
    (C0 + '.imagePullPolicy', 'Sometimes'), (C0 + '.imagePullPolicy', 'Never'),
    (C0 + '.command', []), (C0 + '.volumeMounts.0.name', 'nope'), (C0 + '.volumeMounts.0.mountPath', ''),
    (C0 + '.volumeMounts.0.mountPath', 'relative'),
    (C0 + '.resources.requests.cpu', '-10m'), (C0 + '.resources.requests.cpu', 'lots'),
    (C0 + '.resources.requests.memory', '1Gi'), (C0 + '.resources.limits.memory', '1Ki'),
    (C0 + '.resources.requests', {'gpu': '1'}), (C0 + '.resources.limits.cpu', '0.0001'),
    (C0 + '.securityContext.capabilities.drop', ['BOGUS']), (C0 + '.securityContext.runAsUser', -1),
    (C0 + '.securityContext.runAsGroup', -1), (C0 + '.securityContext.allowPrivilegeEscalation', True),
    (C0 + '.securityContext.privileged', True),
    (C0 + '.ports', [{'containerPort': 0}]), (C0 + '.ports', [{'containerPort': 80, 'protocol': 'SCTPX'}]),
    (C0 + '.env', [{'name': 'BAD NAME', 'value': 'x'}]), (C0 + '.env', [{'name': '', 'value': 'x'}]),
    (C0 + '.terminationMessagePolicy', 'Whatever'),
    (I0 + '.name', 'img-0'), (I0 + '.name', 'Bad_Init'), (I0 + '.image', ''),
    (I0 + '.volumeMounts.0.name', 'missing'), (I0 + '.resources.requests.memory', '-1'),
    (TS + '.hostNetwork', True), (TS + '.dnsPolicy', 'Nope'), (TS + '.schedulerName', 'Bad Name'),
    (TS + '.activeDeadlineSeconds', 10), (TS + '.hostname', 'Bad_Host'),
]


def req(cases, who, method, path, body=None, ctype=None, cid=None):
    if body is not None and ctype is None:
        ctype = 'application/json'
    if cid is None:
        cid = '%s %s %s' % (who, method, path)
        if body is not None:
            text = body.decode(errors='replace') if isinstance(body, bytes) else json.dumps(body)
            cid += ' (%s) %s' % (ctype.split('/')[-1], text if len(text) <= 70 else text[:67] + '...')
    cases.append({'id': cid, 'who': who, 'method': method, 'path': path,
                  'body': body if body is None or isinstance(body, bytes) else json.dumps(body).encode(),
                  'ctype': ctype})


def discovery(cases):
    for p in ('/api', '/api/v1', '/apis', '/apis/apps/v1', '/apis/authorization.k8s.io/v1',
              '/healthz', '/readyz', '/livez', '/openapi/v2', '/nope', '/api/v2', '/apis/apps/v9'):
        req(cases, 'admin', 'GET', p)
    for p in ('/api', '/apis', '/version', '/healthz', '/metrics', '/openapi/v2'):
        req(cases, 'sa', 'GET', p)


def nodes(cases):
    req(cases, 'admin', 'GET', NODES + '/node-0001')
    req(cases, 'admin', 'GET', NODES + '/node-9999')
    req(cases, 'admin', 'GET', NODES + '/Bad_Name')
    sels = ['kubernetes.io/os=linux', 'topology.kubernetes.io/zone in (zone-a,zone-b)',
            '!p2p-seeder', 'p2p-seeder', 'p2p-seeder!=true', 'a=b,c!=d', 'a in (b', 'a in ()',
            '!!a', 'a==b', 'a=b=c', 'bad key!=x', 'a notin (b,c)', 'a>1', 'x=' + 'v' * 64, ',',
            'a=b,', '=b', 'a!=', 'a in (b,,c)', 'kubernetes.io/hostname=node-0001']
    for s in sels:
        req(cases, 'admin', 'GET', NODES + '?labelSelector=' + quote(s))
    for f in ('metadata.name=node-0001', 'metadata.name!=node-0001', 'spec.unschedulable=false',
              'spec.unschedulable=true', 'spec.foo=bar', 'metadata.namespace=', 'status.phase=Running',
              'metadata.name', 'metadata.name==node-0002', 'metadata.name in (a)'):
        req(cases, 'admin', 'GET', NODES + '?fieldSelector=' + quote(f))
    for q in ('limit=1', 'limit=0', 'limit=-1', 'limit=abc', 'continue=garbage', 'continue=',
              'resourceVersion=0', 'resourceVersion=abc', 'resourceVersion=0&limit=1',
              'resourceVersionMatch=Exact', 'resourceVersionMatch=NotOlderThan&resourceVersion=0',
              'timeoutSeconds=abc', 'watch=maybe'):
        req(cases, 'admin', 'GET', NODES + '?' + q)
    req(cases, 'admin', 'GET', NODES + '?limit=1', cid='admin list nodes limit=1 again')


def quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe='')


def node_patches(cases):
    n = NODES + '/node-0003'
    good = {'metadata': {'labels': {'p2p-seeder': 'true'},
                         'annotations': {'clyde-seed.io/labelled-by': 'run-1'}}}
    req(cases, 'admin', 'PATCH', n, good, MERGE)
    req(cases, 'admin', 'PATCH', n, good, STRATEGIC)
    req(cases, 'admin', 'PATCH', n, {'metadata': {'labels': {'p2p-seeder': None}}}, MERGE)
    req(cases, 'admin', 'PATCH', n, [{'op': 'add', 'path': '/metadata/labels/p2p-seeder', 'value': 'true'}], JSONPATCH)
    req(cases, 'admin', 'PATCH', n, [{'op': 'test', 'path': '/metadata/labels/p2p-seeder', 'value': 'false'}], JSONPATCH)
    req(cases, 'admin', 'PATCH', n, [{'op': 'remove', 'path': '/metadata/labels/nope'}], JSONPATCH)
    req(cases, 'admin', 'PATCH', n, [{'op': 'frob', 'path': '/metadata'}], JSONPATCH)
    req(cases, 'admin', 'PATCH', n, [{'op': 'replace', 'path': '/metadata/labels/p2p-seeder', 'value': 'x'}], JSONPATCH)
    req(cases, 'admin', 'PATCH', n, {'op': 'add'}, JSONPATCH)
    req(cases, 'admin', 'PATCH', n, good, 'application/json')
    req(cases, 'admin', 'PATCH', n, good, 'text/plain')
    req(cases, 'admin', 'PATCH', n, b'{not json', MERGE)
    req(cases, 'admin', 'PATCH', n, b'', MERGE)
    req(cases, 'admin', 'PATCH', n, b'[]', MERGE)
    req(cases, 'admin', 'PATCH', n, b'"x"', STRATEGIC)
    req(cases, 'admin', 'PATCH', n, good, 'application/apply-patch+yaml')
    for lab in ({'bad key!': 'x'}, {'k': 'bad value!'}, {'k': 'v' * 64}, {'a/b/c': 'x'},
                {'p2p-seeder': 'true', 'x' * 64: 'y'}, {'example.com/': 'x'}, {'': 'x'}):
        req(cases, 'admin', 'PATCH', n, {'metadata': {'labels': lab}}, MERGE)
    for ann in ({'bad key!': 'x'}, {'k': 'v' * 300000}):
        req(cases, 'admin', 'PATCH', n, {'metadata': {'annotations': ann}}, MERGE)
    req(cases, 'admin', 'PATCH', n, {'metadata': {'resourceVersion': '1', 'labels': {'a': 'b'}}}, MERGE)
    req(cases, 'admin', 'PATCH', n, {'metadata': {'name': 'other'}}, MERGE)
    req(cases, 'admin', 'PATCH', n, {'metadata': {'uid': 'not-the-uid'}}, MERGE)
    req(cases, 'admin', 'PATCH', n, {'spec': {'unschedulable': 'yes'}}, MERGE)
    req(cases, 'admin', 'PATCH', n, {'spec': {'taints': [{'key': 'k', 'effect': 'Bogus'}]}}, MERGE)
    req(cases, 'admin', 'PATCH', n, {'spec': {'podCIDR': '10.9.0.0/24'}}, MERGE)
    req(cases, 'admin', 'PATCH', NODES + '/node-9999', good, MERGE)
    req(cases, 'admin', 'PUT', n, {'metadata': {'name': 'node-0003'}})
    req(cases, 'admin', 'PUT', n, {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': 'node-0004'}})
    req(cases, 'admin', 'POST', NODES + '/node-0003', good)
    req(cases, 'admin', 'DELETE', NODES + '/node-9999')


def daemonsets(cases):
    req(cases, 'admin', 'POST', DS, daemonset('fid-ok'), cid='create the DaemonSet the tool sends')
    req(cases, 'admin', 'POST', DS, daemonset('fid-ok'), cid='create it again: 409')
    req(cases, 'admin', 'GET', DS + '/fid-ok')
    req(cases, 'admin', 'GET', DS + '/fid-none')
    req(cases, 'admin', 'GET', DS + '?labelSelector=' + quote('app.kubernetes.io/managed-by=clyde-seed'))
    req(cases, 'admin', 'POST', '/apis/apps/v1/namespaces/nope/daemonsets', daemonset('fid-x'))
    req(cases, 'admin', 'POST', DS, daemonset('fid-one', ['node-0001']))
    for i, (path, value) in enumerate(DS_VARIANTS):
        ds = daemonset('fid-v%d' % i)
        try:
            setp(ds, path, value if value is DELETE else copy.deepcopy(value))
        except (KeyError, IndexError):
            continue
        req(cases, 'admin', 'POST', DS, ds, cid='DaemonSet %s = %s' % (path, short(value)))
    bad = daemonset('fid-kind')
    bad['kind'] = 'Deployment'
    req(cases, 'admin', 'POST', DS, bad)
    bad = daemonset('fid-apiv')
    bad['apiVersion'] = 'apps/v1beta2'
    req(cases, 'admin', 'POST', DS, bad)
    req(cases, 'admin', 'POST', DS, b'{"kind":', cid='DaemonSet: truncated JSON')
    req(cases, 'admin', 'POST', DS, daemonset('fid-ct'), 'text/plain')
    req(cases, 'admin', 'POST', DS, daemonset('fid-yaml'), 'application/yaml')
    req(cases, 'admin', 'POST', DS + '?fieldValidation=Strict', setp(daemonset('fid-strict'), 'spec.bogus', 1))
    req(cases, 'admin', 'POST', DS + '?fieldValidation=Warn', setp(daemonset('fid-warn'), 'spec.bogus', 1))
    req(cases, 'admin', 'POST', DS + '?fieldValidation=Ignore', setp(daemonset('fid-ign'), 'spec.bogus', 1))
    req(cases, 'admin', 'POST', DS + '?fieldValidation=Bogus', daemonset('fid-fv'))
    req(cases, 'admin', 'POST', DS + '?dryRun=All', daemonset('fid-dry'))
    req(cases, 'admin', 'POST', DS + '?dryRun=Bogus', daemonset('fid-dry2'))
    req(cases, 'admin', 'PUT', DS, daemonset('fid-put'))
    req(cases, 'admin', 'POST', DS + '/fid-ok', daemonset('fid-ok'))
    req(cases, 'admin', 'DELETE', DS + '/fid-none')
    req(cases, 'admin', 'DELETE', DS + '/fid-ok', {'kind': 'DeleteOptions', 'apiVersion': 'v1',
                                                   'preconditions': {'uid': '00000000-0000-0000-0000-000000000000'}})
    req(cases, 'admin', 'DELETE', DS + '/fid-ok', {'kind': 'DeleteOptions', 'apiVersion': 'v1',
                                                   'propagationPolicy': 'Sideways'})
    req(cases, 'admin', 'DELETE', DS + '/fid-ok?propagationPolicy=Sideways')
    req(cases, 'admin', 'DELETE', DS + '/fid-ok', b'{bad', 'application/json')
    req(cases, 'admin', 'DELETE', DS + '/fid-ok?propagationPolicy=Background')
    req(cases, 'admin', 'DELETE', DS + '/fid-ok', cid='delete it again: 404')
    req(cases, 'admin', 'DELETE', DS + '/fid-one?gracePeriodSeconds=-1')


def short(v):
    s = json.dumps(v) if v is not DELETE else '(removed)'
    return s if len(s) < 40 else s[:37] + '...'


def pods(cases):
    for q in ('', '?labelSelector=' + quote('app.kubernetes.io/managed-by=clyde-seed'),
              '?fieldSelector=' + quote('spec.nodeName=node-0001'),
              '?fieldSelector=' + quote('status.phase=Running'),
              '?fieldSelector=' + quote('spec.nodeName=node-0001,status.phase!=Failed'),
              '?fieldSelector=' + quote('spec.bogus=x'), '?limit=1', '?limit=500&continue=abc'):
        req(cases, 'admin', 'GET', PODS + q)
    req(cases, 'admin', 'GET', '/api/v1/pods?fieldSelector=' + quote('spec.nodeName=node-0002'))
    req(cases, 'admin', 'GET', PODS + '/none')
    bad = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'fid-pod'}, 'spec': {'containers': []}}
    req(cases, 'admin', 'POST', PODS, bad)
    bad = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'fid-pod'},
           'spec': {'containers': [{'name': 'c', 'image': 'nginx'}], 'nodeName': 'Bad_Node'}}
    req(cases, 'admin', 'POST', PODS, bad)
    for q in ('watch=1&resourceVersion=abc', 'watch=1&timeoutSeconds=abc', 'watch=1&limit=abc',
              'watch=1&fieldSelector=' + quote('spec.bogus=1'), 'watch=1&labelSelector=' + quote('a in (')):
        req(cases, 'admin', 'GET', PODS + '?' + q)


def rbac(cases):
    req(cases, 'sa', 'GET', NODES + '?limit=2')
    req(cases, 'sa', 'GET', NODES + '/node-0001')
    req(cases, 'sa', 'PATCH', NODES + '/node-0002', {'metadata': {'labels': {'p2p-seeder': 'true'}}}, MERGE)
    req(cases, 'sa', 'PATCH', NODES + '/node-0002', {'metadata': {'labels': {'p2p-seeder': None}}}, MERGE)
    req(cases, 'sa', 'DELETE', NODES + '/node-0002')
    req(cases, 'sa', 'PUT', NODES + '/node-0002', {'metadata': {'name': 'node-0002'}})
    req(cases, 'sa', 'POST', NODES, {'metadata': {'name': 'sa-node'}})
    req(cases, 'sa', 'GET', '/api/v1/namespaces/kube-system')
    req(cases, 'sa', 'GET', '/api/v1/namespaces/default')
    req(cases, 'sa', 'GET', '/api/v1/namespaces')
    req(cases, 'sa', 'GET', DS)
    req(cases, 'sa', 'GET', DS + '/fid-none')
    req(cases, 'sa', 'POST', DS, daemonset('fid-sa'))
    req(cases, 'sa', 'DELETE', DS + '/fid-sa')
    req(cases, 'sa', 'PATCH', DS + '/fid-sa', {'metadata': {'labels': {'a': 'b'}}}, MERGE)
    req(cases, 'sa', 'GET', '/apis/apps/v1/namespaces/kube-system/daemonsets')
    req(cases, 'sa', 'POST', '/apis/apps/v1/namespaces/kube-system/daemonsets', daemonset('fid-sa'))
    req(cases, 'sa', 'GET', PODS)
    req(cases, 'sa', 'GET', PODS + '?watch=1&timeoutSeconds=1&resourceVersion=0&labelSelector=nomatch%3Dx')
    req(cases, 'sa', 'GET', PODS + '/x')
    req(cases, 'sa', 'POST', PODS, {'metadata': {'name': 'x'}})
    req(cases, 'sa', 'GET', '/api/v1/pods')
    req(cases, 'sa', 'GET', '/api/v1/namespaces/default/secrets')
    req(cases, 'sa', 'GET', '/api/v1/namespaces/default/events')
    req(cases, 'sa', 'GET', '/apis/apps/v1/daemonsets')
    req(cases, 'sa', 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles')
    req(cases, 'sa', 'DELETE', DS + '?labelSelector=a%3Db')
    req(cases, 'sa', 'GET', NODES + '?watch=1&timeoutSeconds=1&labelSelector=nomatch%3Dx')
    reviews = [('nodes', '', 'patch', ''), ('nodes', '', 'list', ''), ('nodes', '', 'delete', ''),
               ('nodes', '', 'watch', ''), ('daemonsets', 'apps', 'create', NS),
               ('daemonsets', 'apps', 'create', 'kube-system'), ('daemonsets', 'apps', 'delete', NS),
               ('daemonsets', 'apps', 'update', NS), ('pods', '', 'watch', NS), ('pods', '', 'list', NS),
               ('pods', '', 'create', NS), ('pods', '', 'list', ''), ('namespaces', '', 'get', ''),
               ('secrets', '', 'get', NS), ('events', '', 'create', NS), ('nodes', 'apps', 'get', '')]
    for res, group, verb, ns in reviews:
        attrs = {'resource': res, 'group': group, 'verb': verb}
        if ns:
            attrs['namespace'] = ns
        body = {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
                'spec': {'resourceAttributes': attrs}}
        req(cases, 'sa', 'POST', SSAR, body, cid='SSAR %s %s%s %s' % (verb, res, '.' + group if group else '', ns))
    body = {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
            'spec': {'resourceAttributes': {'resource': 'namespaces', 'verb': 'get', 'name': 'kube-system'}}}
    req(cases, 'sa', 'POST', SSAR, body, cid='SSAR get namespaces/kube-system')
    req(cases, 'sa', 'POST', SSAR, {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
                                    'spec': {}}, cid='SSAR without attributes')
    req(cases, 'sa', 'POST', SSAR, {'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectAccessReview',
                                    'spec': {'nonResourceAttributes': {'path': '/healthz', 'verb': 'get'}}},
        cid='SSAR nonresource /healthz')
    req(cases, 'sa', 'GET', SSAR)
    req(cases, 'nobody', 'GET', NODES)
    req(cases, 'nobody', 'GET', '/api')


def namespaces(cases):
    req(cases, 'admin', 'GET', '/api/v1/namespaces/kube-system')
    req(cases, 'admin', 'GET', '/api/v1/namespaces/nope')
    req(cases, 'admin', 'POST', '/api/v1/namespaces', {'metadata': {'name': 'Bad_NS'}})
    req(cases, 'admin', 'POST', '/api/v1/namespaces', {'metadata': {'name': 'default'}})
    req(cases, 'admin', 'DELETE', '/api/v1/namespaces/kube-system')
    req(cases, 'admin', 'GET', '/api/v1/namespaces/default/nothings')
    req(cases, 'admin', 'GET', '/apis/apps/v1/namespaces/default/pods')
    req(cases, 'admin', 'GET', '/api/v1/namespaces/default/daemonsets')
    for q in ('limit=1&labelSelector=' + quote('kubernetes.io/arch=amd64'),
              'labelSelector=' + quote('node-role.kubernetes.io/control-plane'),
              'labelSelector=' + quote('!node-role.kubernetes.io/control-plane'),
              'fieldSelector=' + quote('spec.unschedulable!=true'),
              'labelSelector=' + quote('p2p-seeder=true') + '&fieldSelector=' + quote('metadata.name=node-0002')):
        req(cases, 'admin', 'GET', NODES + '?' + q)
        req(cases, 'sa', 'GET', NODES + '?' + q)


def build():
    cases = []
    for part in (discovery, nodes, node_patches, daemonsets, pods, rbac, namespaces):
        part(cases)
    seen = {}
    for c in cases:         # ids are unique: FIDELITY.md names the cases it explains
        n = seen[c['id']] = seen.get(c['id'], 0) + 1
        if n > 1:
            c['id'] += ' #%d' % n
    return cases
