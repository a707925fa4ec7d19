"""Invalid pods and DaemonSets, one per validation rule kube-sim mirrors.

Every case starts from the pod clyde-seed's DaemonSet template makes (src/manifest.c:
one nodeSelectorTerm per node with a single-value matchFields, an emptyDir, restricted
security contexts, requests and limits) and changes a few fields.  `upstream` names the
Kubernetes Go function (pkg/apis/core/validation unless said otherwise) whose rule it
exercises.  testdata/real-422.json holds what a real v1.26.0 API server answered for each
case (recorded by compare-real.py --record); test_podvalidation.py asserts kube-sim answers
the same.
"""

import copy
import re

DELETE = object()

SC = {'allowPrivilegeEscalation': False, 'readOnlyRootFilesystem': True, 'runAsNonRoot': True,
      'runAsUser': 65534, 'runAsGroup': 65534, 'capabilities': {'drop': ['ALL']},
      'seccompProfile': {'type': 'RuntimeDefault'}}
RES = {'requests': {'cpu': '10m', 'memory': '16Mi'}, 'limits': {'cpu': '100m', 'memory': '64Mi'}}


def _container(name, image, ro):
    mount = {'name': 'bin', 'mountPath': '/clyde'}
    if ro:
        mount['readOnly'] = True
    return {'name': name, 'image': image, 'imagePullPolicy': 'IfNotPresent',
            'command': ['/clyde/sleep', '1'], 'volumeMounts': [mount],
            'resources': copy.deepcopy(RES), 'securityContext': copy.deepcopy(SC)}


def pod_spec():
    """The pod spec of a clyde-seed puller DaemonSet for two seeders."""
    terms = [{'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [n]}]}
             for n in ('node-0001', 'node-0002')]
    return {'automountServiceAccountToken': False, 'enableServiceLinks': False,
            'terminationGracePeriodSeconds': 1, 'restartPolicy': 'Always',
            'nodeSelector': {'clyde-seed.io/seeder': 'true'},
            'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {
                'nodeSelectorTerms': terms}}},
            'tolerations': [{'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoSchedule'}],
            'imagePullSecrets': [{'name': 'regcred'}],
            'securityContext': {'runAsNonRoot': True, 'runAsUser': 65534, 'runAsGroup': 65534,
                                'seccompProfile': {'type': 'RuntimeDefault'}},
            'volumes': [{'name': 'bin', 'emptyDir': {'sizeLimit': '16Mi'}}],
            'initContainers': [_container('clyde-seed-helper', 'busybox:1.36', False)],
            'containers': [_container('img-0', 'nginx:1.25', True)]}


LABELS = {'app.kubernetes.io/name': 'clyde-seed', 'clyde-seed.io/batch': '0'}


def pod(name='puller'):
    return {'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'name': name, 'labels': dict(LABELS)}, 'spec': pod_spec()}


def daemonset(name='puller'):
    return {'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
            'metadata': {'name': name, 'labels': dict(LABELS)},
            'spec': {'selector': {'matchLabels': dict(LABELS)},
                     'updateStrategy': {'type': 'OnDelete'},
                     'template': {'metadata': {'labels': dict(LABELS)}, 'spec': pod_spec()}}}


_STEP = re.compile(r'([^.\[\]]+)|\[(\d+)\]')


def _steps(path):
    return [int(i) if i else k for k, i in _STEP.findall(path)]


def set_path(obj, path, value):
    """Sets 'spec.containers[0].name' style path in obj (DELETE removes it)."""
    steps = _steps(path)
    cur = obj
    for s in steps[:-1]:
        cur = cur[s]
    if value is DELETE:
        del cur[steps[-1]]
    else:
        cur[steps[-1]] = copy.deepcopy(value)


NA = 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution'
T0 = NA + '.nodeSelectorTerms[0]'
C0 = 'containers[0]'
I0 = 'initContainers[0]'

# (name, upstream function, {pod-spec relative path: new value})
CASES = [
    # node affinity
    ('matchFields two values', 'ValidateNodeFieldSelectorRequirement',
     {T0 + '.matchFields[0].values': ['node-0001', 'node-0002']}),
    ('matchFields no value', 'ValidateNodeFieldSelectorRequirement',
     {T0 + '.matchFields[0].values': []}),
    ('matchFields Exists', 'ValidateNodeFieldSelectorRequirement',
     {T0 + '.matchFields[0]': {'key': 'metadata.name', 'operator': 'Exists'}}),
    ('matchFields key', 'ValidateNodeFieldSelectorRequirement',
     {T0 + '.matchFields[0].key': 'metadata.labels'}),
    ('matchFields bad node name', 'ValidateNodeFieldSelectorRequirement',
     {T0 + '.matchFields[0].values': ['Node_1']}),
    ('matchFields NotIn', 'ValidateNodeFieldSelectorRequirement',
     {T0 + '.matchFields[0].operator': 'NotIn'}),
    ('no terms', 'ValidateNodeSelector', {NA + '.nodeSelectorTerms': []}),
    ('empty term', 'ValidateNodeSelectorTerm', {T0: {}}),
    ('expression operator', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': 'zone', 'operator': 'Has', 'values': ['a']}]}),
    ('In without values', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': 'zone', 'operator': 'In'}]}),
    ('Exists with values', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': 'zone', 'operator': 'Exists', 'values': ['a']}]}),
    ('Gt two values', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': 'cpus', 'operator': 'Gt', 'values': ['1', '2']}]}),
    ('Lt not an integer', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': 'cpus', 'operator': 'Lt', 'values': ['many']}]}),
    ('Gt integer', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': 'cpus', 'operator': 'Gt', 'values': ['4']}]}),
    ('expression key', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': '-zone', 'operator': 'Exists'}]}),
    ('expression key empty', 'ValidateNodeSelectorRequirement',
     {T0 + '.matchExpressions': [{'key': '', 'operator': 'Exists'}]}),
    ('nodeSelector key', 'ValidateLabels (apimachinery)', {'nodeSelector': {'a/b/c': 'x'}}),
    ('nodeSelector value', 'ValidateLabels (apimachinery)', {'nodeSelector': {'seeder': 'a b'}}),
    # tolerations
    ('toleration operator', 'ValidateTolerations', {'tolerations[0].operator': 'Matches'}),
    ('toleration Exists with value', 'ValidateTolerations', {'tolerations[0].value': 'x'}),
    ('toleration empty key Equal', 'ValidateTolerations',
     {'tolerations[0]': {'operator': 'Equal', 'value': 'x'}}),
    ('toleration empty key empty operator', 'ValidateTolerations',
     {'tolerations[0]': {'effect': 'NoSchedule'}}),
    ('toleration effect', 'ValidateTolerations/validateTaintEffect',
     {'tolerations[0].effect': 'NoRun'}),
    ('toleration seconds', 'ValidateTolerations', {'tolerations[0].tolerationSeconds': 30}),
    ('toleration key', 'ValidateTolerations', {'tolerations[0].key': 'a b'}),
    ('toleration value', 'ValidateTolerations',
     {'tolerations[0]': {'key': 'k', 'operator': 'Equal', 'value': 'a b'}}),
    ('toleration all', 'ValidateTolerations', {'tolerations[0]': {'operator': 'Exists'}}),
    # volumes and mounts
    ('volume name', 'ValidateVolumes', {'volumes[0].name': 'Bin'}),
    ('volume name empty', 'ValidateVolumes', {'volumes[0].name': ''}),
    ('volume duplicate', 'ValidateVolumes',
     {'volumes': [{'name': 'bin', 'emptyDir': {}}, {'name': 'bin', 'emptyDir': {}}]}),
    ('volume without type', 'validateVolumeSource', {'volumes[0]': {'name': 'bin'}}),
    ('volume two types', 'validateVolumeSource',
     {'volumes[0]': {'name': 'bin', 'emptyDir': {}, 'hostPath': {'path': '/tmp'}}}),
    ('emptyDir negative', 'validateVolumeSource', {'volumes[0].emptyDir.sizeLimit': '-16Mi'}),
    ('emptyDir zero', 'validateVolumeSource', {'volumes[0].emptyDir.sizeLimit': '0'}),
    ('emptyDir medium', 'validateVolumeSource', {'volumes[0].emptyDir.medium': 'Memory'}),
    ('mount unknown volume', 'ValidateVolumeMounts', {C0 + '.volumeMounts[0].name': 'data'}),
    ('mount path empty', 'ValidateVolumeMounts', {C0 + '.volumeMounts[0].mountPath': ''}),
    ('mount name empty', 'ValidateVolumeMounts', {I0 + '.volumeMounts[0].name': ''}),
    ('mount path twice', 'ValidateVolumeMounts',
     {C0 + '.volumeMounts': [{'name': 'bin', 'mountPath': '/a'}, {'name': 'bin', 'mountPath': '/a'}]}),
    ('mount of invalid volume', 'ValidateVolumes/ValidateVolumeMounts',
     {'volumes[0].name': 'Bin', C0 + '.volumeMounts[0].name': 'Bin'}),
    # security contexts
    ('runAsUser negative', 'ValidateSecurityContext', {C0 + '.securityContext.runAsUser': -1}),
    ('runAsUser too big', 'ValidateSecurityContext',
     {C0 + '.securityContext.runAsUser': 2147483648}),
    ('runAsGroup negative', 'ValidateSecurityContext', {I0 + '.securityContext.runAsGroup': -5}),
    ('pod runAsUser negative', 'ValidatePodSecurityContext', {'securityContext.runAsUser': -1}),
    ('pod fsGroup negative', 'ValidatePodSecurityContext', {'securityContext.fsGroup': -1}),
    ('pod supplementalGroups', 'ValidatePodSecurityContext',
     {'securityContext.supplementalGroups': [1, -2]}),
    ('seccomp type', 'validateSeccompProfileField', {C0 + '.securityContext.seccompProfile.type': 'Strict'}),
    ('seccomp empty type', 'validateSeccompProfileField',
     {'securityContext.seccompProfile': {}}),
    ('seccomp localhost without profile', 'validateSeccompProfileField',
     {'securityContext.seccompProfile.type': 'Localhost'}),
    ('seccomp profile on RuntimeDefault', 'validateSeccompProfileField',
     {C0 + '.securityContext.seccompProfile.localhostProfile': 'p.json'}),
    ('privileged without escalation', 'ValidateSecurityContext',
     {C0 + '.securityContext.privileged': True}),
    ('privileged', 'ValidateSecurityContext',
     {C0 + '.securityContext.privileged': True, C0 + '.securityContext.allowPrivilegeEscalation': True}),
    ('procMount', 'ValidateSecurityContext/ValidateProcMountType', {C0 + '.securityContext.procMount': 'Open'}),
    ('capability add SYS_ADMIN', 'ValidateSecurityContext',
     {C0 + '.securityContext.capabilities.add': ['CAP_SYS_ADMIN']}),
    # resources
    ('cpu request over limit', 'ValidateResourceRequirements', {C0 + '.resources.requests.cpu': '200m'}),
    ('memory request over limit', 'ValidateResourceRequirements',
     {I0 + '.resources.requests.memory': '1Gi'}),
    ('cpu limit negative', 'ValidateResourceQuantityValue', {C0 + '.resources.limits.cpu': '-1'}),
    ('memory request negative', 'ValidateResourceQuantityValue',
     {C0 + '.resources.requests.memory': '-1Mi'}),
    ('resource name', 'validateContainerResourceName', {C0 + '.resources.limits.gpu': '1'}),
    ('resource name qualified', 'validateContainerResourceName',
     {C0 + '.resources.limits': {'cpu': '100m', 'memory': '64Mi', 'example.com/gpu': '1'},
      C0 + '.resources.requests': {'cpu': '10m', 'memory': '16Mi', 'example.com/gpu': '1'}}),
    ('extended resource overcommit', 'ValidateResourceRequirements',
     {C0 + '.resources.limits': {'cpu': '100m', 'memory': '64Mi', 'example.com/gpu': '2'},
      C0 + '.resources.requests': {'cpu': '10m', 'memory': '16Mi', 'example.com/gpu': '1'}}),
    ('cpu limit only', 'ValidateResourceRequirements', {C0 + '.resources.requests': DELETE}),
    ('quantities with fractions', 'ValidateResourceRequirements',
     {C0 + '.resources': {'requests': {'cpu': '0.1', 'memory': '16e6'},
                          'limits': {'cpu': '100m', 'memory': '16M'}}}),
    ('cpu request equals limit in other units', 'ValidateResourceRequirements',
     {C0 + '.resources': {'requests': {'cpu': '0.5'}, 'limits': {'cpu': '500m'}}}),
    ('memory fraction request over limit', 'ValidateResourceRequirements',
     {C0 + '.resources': {'requests': {'memory': '1.5Gi'}, 'limits': {'memory': '1536Mi'}}}),
    ('memory request a byte over', 'ValidateResourceRequirements',
     {C0 + '.resources': {'requests': {'memory': '1537Mi'}, 'limits': {'memory': '1.5Gi'}}}),
    # image pull secrets
    ('pull secret bad name', 'validateImagePullSecrets', {'imagePullSecrets[0].name': 'Reg_Cred'}),
    ('pull secret empty name', 'validateImagePullSecrets', {'imagePullSecrets[0].name': ''}),
    # containers
    ('container name', 'validateContainerCommon', {C0 + '.name': 'Img_0'}),
    ('container name empty', 'validateContainerCommon', {C0 + '.name': ''}),
    ('container name long', 'validateContainerCommon', {C0 + '.name': 'a' * 64}),
    ('container duplicate', 'validateContainers',
     {'containers': [_container('img-0', 'nginx:1.25', True), _container('img-0', 'redis:7', True)]}),
    ('init duplicates container', 'validateInitContainers', {I0 + '.name': 'img-0'}),
    ('image empty', 'validateContainerCommon', {C0 + '.image': ''}),
    ('pull policy', 'validatePullPolicy', {C0 + '.imagePullPolicy': 'Sometimes'}),
    ('termination message policy', 'validateContainerCommon',
     {C0 + '.terminationMessagePolicy': 'Logs'}),
    ('container port', 'validateContainerPorts', {C0 + '.ports': [{'containerPort': 0}]}),
    ('no containers', 'validateContainers', {'containers': []}),
    ('init probe', 'validateInitContainers',
     {I0 + '.readinessProbe': {'exec': {'command': ['true']}}}),
    # pod fields
    ('priority class name', 'ValidatePodSpec', {'priorityClassName': 'High_Priority'}),
    ('restart policy', 'validateRestartPolicy', {'restartPolicy': 'Sometimes'}),
    ('grace period negative', 'ValidatePodSpec (ValidateNonnegativeField)',
     {'terminationGracePeriodSeconds': -1}),
]

# Cases a real server refuses before validation, when it decodes the body (400).
DECODE_CASES = [
    ('cpu not a quantity', 'resource.ParseQuantity', {C0 + '.resources.limits.cpu': 'lots'}),
    ('emptyDir sizeLimit not a quantity', 'resource.ParseQuantity',
     {'volumes[0].emptyDir.sizeLimit': '16MB'}),
]


def apply(obj, changes, prefix):
    for path, value in changes.items():
        set_path(obj, prefix + path, value)
    return obj


def case_pod(changes):
    return apply(pod(), changes, 'spec.')


def case_daemonset(changes):
    return apply(daemonset(), changes, 'spec.template.spec.')


# ---- admission ---------------------------------------------------------------------
# Namespaces with their policies (labels, annotations, objects created in them).
LIMITS = {'apiVersion': 'v1', 'kind': 'LimitRange', 'metadata': {'name': 'limits'},
          'spec': {'limits': [{'type': 'Container', 'min': {'cpu': '100m', 'memory': '32Mi'},
                               'max': {'cpu': '1', 'memory': '1Gi'},
                               'maxLimitRequestRatio': {'cpu': '1'},
                               'default': {'cpu': '200m', 'memory': '64Mi'},
                               'defaultRequest': {'cpu': '200m', 'memory': '64Mi'}}]}}
QUOTA = {'apiVersion': 'v1', 'kind': 'ResourceQuota', 'metadata': {'name': 'compute'},
         'spec': {'hard': {'requests.cpu': '100m', 'limits.cpu': '150m', 'requests.memory': '1Gi',
                           'limits.memory': '1Gi', 'pods': '5'}}}
NAMESPACES = {
    'ksim-restricted': ({'pod-security.kubernetes.io/enforce': 'restricted'}, None),
    'ksim-baseline': ({'pod-security.kubernetes.io/enforce': 'baseline',
                       'pod-security.kubernetes.io/enforce-version': 'v1.24',
                       'pod-security.kubernetes.io/warn': 'restricted'}, None),
    'ksim-limits': ({}, [('limitranges', LIMITS)]),
    'ksim-quota': ({}, [('resourcequotas', QUOTA)]),
}
PLAIN = {'containers': [{'name': 'c', 'image': 'nginx'}], 'initContainers': [{'name': 'i', 'image': 'busybox'}]}
HOSTILE = {'hostNetwork': True, 'volumes': [{'name': 'h', 'hostPath': {'path': '/'}}],
           'containers': [{'name': 'c', 'image': 'nginx', 'securityContext': {
               'privileged': True, 'capabilities': {'add': ['NET_ADMIN', 'SYS_TIME']}}},
               {'name': 'd', 'image': 'nginx', 'ports': [{'containerPort': 80, 'hostPort': 80}]}]}
ROOT = {'securityContext': {'runAsNonRoot': False, 'runAsUser': 0, 'seccompProfile': {'type': 'Unconfined'}},
        'containers': [{'name': 'c', 'image': 'nginx', 'securityContext': {
            'allowPrivilegeEscalation': False, 'capabilities': {'drop': ['ALL'], 'add': ['NET_BIND_SERVICE']},
            'runAsUser': 0}}]}

# (name, upstream, namespace, pod spec (None: clyde-seed's), use generateName)
ADMISSION_CASES = [
    ('restricted: ours', 'pod-security-admission policy (restricted)', 'ksim-restricted', None, False),
    ('restricted: plain', 'pod-security-admission policy (restricted)', 'ksim-restricted', PLAIN, False),
    ('restricted: hostile', 'pod-security-admission policy (restricted)', 'ksim-restricted', HOSTILE, False),
    ('restricted: root', 'check_runAsNonRoot/check_runAsUser/check_seccompProfile_restricted',
     'ksim-restricted', ROOT, False),
    ('restricted: generateName', 'admission.NewForbidden (validating: generated name)',
     'ksim-restricted', PLAIN, True),
    ('baseline: hostile', 'pod-security-admission policy (baseline v1.24)', 'ksim-baseline', HOSTILE, False),
    ('baseline: plain warns', 'pod-security-admission warn label', 'ksim-baseline', PLAIN, False),
    ('limits: ours', 'LimitRanger PodValidateLimitFunc', 'ksim-limits', None, False),
    ('limits: defaults', 'LimitRanger PodMutateLimitFunc', 'ksim-limits', PLAIN, False),
    ('limits: big', 'LimitRanger min/max/ratio',
     'ksim-limits', {'containers': [{'name': 'c', 'image': 'nginx', 'resources': {
         'limits': {'cpu': '2', 'memory': '2Gi'}, 'requests': {'cpu': '1500m', 'memory': '16Mi'}}}]}, False),
    ('quota: plain', 'podEvaluator.Constraints', 'ksim-quota', PLAIN, False),
    ('quota: half', 'podEvaluator.Constraints', 'ksim-quota',
     {'containers': [{'name': 'c', 'image': 'nginx', 'resources': {'requests': {'cpu': '10m'}}}]}, False),
    ('quota: ours', 'ResourceQuota admission (fits)', 'ksim-quota', None, False),
    ('quota: exceeded', 'ResourceQuota admission (exceeded quota)', 'ksim-quota',
     {'containers': [{'name': 'c', 'image': 'nginx', 'resources': {
         'limits': {'cpu': '200m', 'memory': '64Mi'}, 'requests': {'cpu': '150m', 'memory': '64Mi'}}}]}, False),
    ('priority: missing', 'Priority admitPod', 'default', {'priorityClassName': 'nope'}, False),
    ('priority: missing generateName', 'admission.NewForbidden (mutating: generateName)', 'default',
     {'priorityClassName': 'nope'}, True),
    ('priority: system', 'Priority admitPod', 'default', {'priorityClassName': 'system-node-critical'}, False),
    ('priority: value given', 'Priority admitPod', 'default',
     {'priorityClassName': 'system-node-critical', 'priority': 5}, False),
]


def admission_pod(spec_changes, generate):
    p = pod('adm')
    if spec_changes is not None and 'containers' in spec_changes:
        p['spec'] = copy.deepcopy(spec_changes)
    elif spec_changes is not None:
        p['spec'].update(copy.deepcopy(spec_changes))
    if generate:
        p['metadata'] = {'generateName': 'adm-', 'labels': dict(LABELS)}
    return p
