"""Realistic node objects (~20 kB each with 50 images), and node condition changes."""

import hashlib
import uuid

import images
from store import rfc3339

BASE_IMAGES = [
    'registry.k8s.io/pause:3.9', 'registry.k8s.io/kube-proxy:v1.26.0',
    'registry.k8s.io/coredns/coredns:v1.11.1', 'registry.k8s.io/metrics-server/metrics-server:v0.7.1',
    'docker.io/calico/node:v3.27.3', 'docker.io/calico/cni:v3.27.3',
    'docker.io/calico/kube-controllers:v3.27.3', 'quay.io/prometheus/node-exporter:v1.8.1',
    'docker.io/library/nginx:1.25.5', 'docker.io/library/redis:7.2.5',
    'docker.io/library/postgres:16.3', 'docker.io/library/busybox:1.36.1-musl',
    'docker.io/fluent/fluent-bit:3.0.7', 'quay.io/jetstack/cert-manager-controller:v1.15.1',
    'registry.k8s.io/ingress-nginx/controller:v1.10.1', 'docker.io/grafana/promtail:3.0.0',
]

ALLOC = {'cpu': '7910m', 'ephemeral-storage': '95491281156', 'hugepages-1Gi': '0',
         'hugepages-2Mi': '0', 'memory': '31709848Ki', 'pods': '110'}
CAPACITY = {'cpu': '8', 'ephemeral-storage': '103597012Ki', 'hugepages-1Gi': '0',
            'hugepages-2Mi': '0', 'memory': '32761496Ki', 'pods': '110'}


def image_pool(n):
    """The first n images of a deterministic pool: system images, then app images."""
    pool = list(BASE_IMAGES)
    i = 0
    while len(pool) < n:
        pool.append('registry.example.com/team-%d/service-%d:v%d.%d.%d'
                    % (i % 7, i, 1 + i % 3, i % 10, i % 4))
        i += 1
    return pool[:n]


POOL = image_pool(400)


_POOL_ENTRIES = {}


def _pool_entry(name):
    """(names, size) of a pool image, computed once: parsing and hashing 50 images for
    each of 10,000 nodes was most of the start-up time."""
    e = _POOL_ENTRIES.get(name)
    if e is None:
        ref = images.parse(name)
        names = ref.names()
        # images pushed under two repositories carry a second repo digest
        names.insert(1, 'mirror.example.com/%s@%s' % (ref.repo.split('/', 1)[1],
                                                        images.digest_of('mirror:' + name)))
        e = _POOL_ENTRIES[name] = (tuple(names), images.size_of(ref))
    return e


def node_images(index, count):
    """Image entries for the count images a node starts with, largest first."""
    picks = POOL[:min(count, 10)]
    rest = POOL[10:]
    j = index * 7
    while len(picks) < count and rest:
        picks.append(rest[j % len(rest)])
        j += 1
    out = [_pool_entry(name) for name in picks]
    out.sort(key=lambda e: -e[1])
    return [{'names': list(names), 'sizeBytes': size} for names, size in out]


def condition(ctype, status, reason, message, now):
    return {'type': ctype, 'status': status, 'lastHeartbeatTime': now,
            'lastTransitionTime': now, 'reason': reason, 'message': message}


def base_conditions(now):
    return [condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory',
                      'kubelet has sufficient memory available', now),
            condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure',
                      'kubelet has no disk pressure', now),
            condition('PIDPressure', 'False', 'KubeletHasSufficientPID',
                      'kubelet has sufficient PID available', now),
            condition('Ready', 'True', 'KubeletReady',
                      'kubelet is posting ready status', now)]


def _managed_fields(now):
    fields = {'f:metadata': {'f:annotations': {'.': {}, 'f:node.alpha.kubernetes.io/ttl': {},
                                               'f:volumes.kubernetes.io/controller-managed-attach-detach': {}},
                             'f:labels': {'.': {}, 'f:beta.kubernetes.io/arch': {},
                                          'f:beta.kubernetes.io/os': {}, 'f:kubernetes.io/arch': {},
                                          'f:kubernetes.io/hostname': {}, 'f:kubernetes.io/os': {},
                                          'f:node.kubernetes.io/instance-type': {},
                                          'f:topology.kubernetes.io/region': {},
                                          'f:topology.kubernetes.io/zone': {}}},
              'f:spec': {'f:podCIDR': {}, 'f:podCIDRs': {'.': {}, 'v:"10.244.0.0/24"': {}},
                         'f:providerID': {}}}
    status = {'f:status': {'f:conditions': {k: {'.': {}, 'f:lastHeartbeatTime': {},
                                                'f:lastTransitionTime': {}, 'f:message': {},
                                                'f:reason': {}, 'f:status': {}, 'f:type': {}}
                                            for k in ('k:{"type":"DiskPressure"}',
                                                      'k:{"type":"MemoryPressure"}',
                                                      'k:{"type":"PIDPressure"}',
                                                      'k:{"type":"Ready"}')},
                           'f:images': {}, 'f:nodeInfo': {'f:bootID': {}}}}
    return [{'manager': 'kubelet', 'operation': 'Update', 'apiVersion': 'v1', 'time': now,
             'fieldsType': 'FieldsV1', 'fieldsV1': fields},
            {'manager': 'kubelet', 'operation': 'Update', 'apiVersion': 'v1', 'time': now,
             'fieldsType': 'FieldsV1', 'fieldsV1': status, 'subresource': 'status'}]


def _uuid(name, salt):
    return str(uuid.UUID(hashlib.md5((salt + name).encode()).hexdigest()))


def make_node(name, index, zone, arch, control_plane=False, images_count=50, labels=None, now=None):
    """A v1.Node as a dict, without uid/resourceVersion (the store stamps those)."""
    now = now or rfc3339()
    ip = '10.%d.%d.%d' % (index // 65536 % 256, index // 256 % 256, index % 256 or 1)
    region = 'region-1'
    lab = {'beta.kubernetes.io/arch': arch, 'beta.kubernetes.io/os': 'linux',
           'kubernetes.io/arch': arch, 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux',
           'node.kubernetes.io/instance-type': 'm6.2xlarge',
           'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone}
    spec = {'podCIDR': '10.244.%d.0/24' % (index % 256), 'podCIDRs': ['10.244.%d.0/24' % (index % 256)],
            'providerID': 'sim://%s/%s' % (zone, name)}
    if control_plane:
        lab['node-role.kubernetes.io/control-plane'] = ''
        lab['node.kubernetes.io/exclude-from-external-load-balancers'] = ''
        spec['taints'] = [{'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}]
    lab.update(labels or {})
    machine = _uuid(name, 'm').replace('-', '')
    return {
        'apiVersion': 'v1', 'kind': 'Node',
        'metadata': {
            'name': name, 'labels': lab,
            'annotations': {'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
                            'node.alpha.kubernetes.io/ttl': '0',
                            'volumes.kubernetes.io/controller-managed-attach-detach': 'true'},
            'managedFields': _managed_fields(now)},
        'spec': spec,
        'status': {
            'addresses': [{'type': 'InternalIP', 'address': ip}, {'type': 'Hostname', 'address': name}],
            'allocatable': dict(ALLOC), 'capacity': dict(CAPACITY),
            'conditions': base_conditions(now),
            'daemonEndpoints': {'kubeletEndpoint': {'Port': 10250}},
            'images': node_images(index, images_count),
            'nodeInfo': {'architecture': arch, 'bootID': _uuid(name, 'b'),
                         'containerRuntimeVersion': 'containerd://1.7.18',
                         'kernelVersion': '6.1.0-21-cloud-%s' % arch, 'kubeProxyVersion': 'v1.26.0',
                         'kubeletVersion': 'v1.26.0', 'machineID': machine,
                         'operatingSystem': 'linux', 'osImage': 'Debian GNU/Linux 12 (bookworm)',
                         'systemUUID': _uuid(name, 's')}}}


def parse_arch(spec):
    """'amd64=3,arm64=1' -> ['amd64','amd64','amd64','arm64'] (the cycle nodes follow)."""
    cycle = []
    for part in (spec or 'amd64').split(','):
        arch, _, weight = part.partition('=')
        cycle += [arch.strip()] * int(weight or 1)
    return cycle


def zone_name(i):
    return 'zone-' + chr(ord('a') + i % 26) + ('' if i < 26 else str(i // 26))


def initial_nodes(count, zones=3, arch='amd64', control_plane=0, images_count=50):
    """The node dicts the simulator starts with: control-plane-N first, then node-NNNN."""
    cycle = parse_arch(arch)
    out = []
    width = max(4, len(str(count)))
    for i in range(control_plane):
        out.append(make_node('control-plane-%d' % (i + 1), 60000 + i, zone_name(i % zones),
                             cycle[0], True, images_count))
    for i in range(count):
        out.append(make_node('node-%0*d' % (width, i + 1), i + 1, zone_name(i % zones),
                             cycle[i % len(cycle)], False, images_count))
    return out


TAINT_NOT_READY = 'node.kubernetes.io/not-ready'
TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable'
TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable'


def set_ready(node, state, now):
    """state: 'True' | 'False' | 'Unknown'; updates the Ready condition and the taints
    the node lifecycle controller keeps."""
    texts = {'True': ('KubeletReady', 'kubelet is posting ready status'),
             'False': ('KubeletNotReady', 'container runtime network not ready: NetworkReady=false'),
             'Unknown': ('NodeStatusUnknown', 'Kubelet stopped posting node status.')}
    for c in node['status']['conditions']:
        if c['type'] == 'Ready':
            if c['status'] != state:
                c['lastTransitionTime'] = now
            c['status'] = state
            c['reason'], c['message'] = texts[state]
            c['lastHeartbeatTime'] = now
    taints = [t for t in node['spec'].get('taints', [])
              if t['key'] not in (TAINT_NOT_READY, TAINT_UNREACHABLE)]
    key = {'False': TAINT_NOT_READY, 'Unknown': TAINT_UNREACHABLE}.get(state)
    if key:
        taints.append({'key': key, 'effect': 'NoSchedule'})
        taints.append({'key': key, 'effect': 'NoExecute', 'timeAdded': now})
    _set_taints(node, taints)


def set_unschedulable(node, on):
    if on:
        node['spec']['unschedulable'] = True
    else:
        node['spec'].pop('unschedulable', None)
    taints = [t for t in node['spec'].get('taints', []) if t['key'] != TAINT_UNSCHEDULABLE]
    if on:
        taints.append({'key': TAINT_UNSCHEDULABLE, 'effect': 'NoSchedule'})
    _set_taints(node, taints)


def _set_taints(node, taints):
    if taints:
        node['spec']['taints'] = taints
    else:
        node['spec'].pop('taints', None)


def is_ready(node):
    for c in node.get('status', {}).get('conditions', []):
        if c.get('type') == 'Ready':
            return c.get('status') == 'True'
    return False


def add_image(node, ref, size, cap=50):
    """Adds a pulled image to node.status.images (largest first, at most cap)."""
    names = ref.names()
    imgs = node['status'].setdefault('images', [])
    for e in imgs:
        if names[0] in e['names']:
            for n in names[1:]:
                if n not in e['names']:
                    e['names'].append(n)
            return
    imgs.append({'names': names, 'sizeBytes': size})
    imgs.sort(key=lambda e: -e['sizeBytes'])
    del imgs[cap:]


def has_image(node, ref):
    want = set(ref.names()) if ref.tag else {ref.image_id()}
    for e in node.get('status', {}).get('images', []):
        if want & set(e['names']):
            return True
    return False
