"""Known fields of the objects clients write, for server-side field validation.

The real server decodes a request body into its Go types; with `fieldValidation=Strict`
an unknown field is a 400, with `Warn` (the default since v1.27) a `Warning: 299` header,
with `Ignore` nothing.  Either way the field is dropped.  This table lists the fields of
the v1.30 types for DaemonSet (down to containers), Pod, Node and Namespace; parts that
the simulator does not look into (volumes, probes, affinity, status, ...) are accepted
whole.  unknown_fields() returns paths as the server prints them:
`spec.template.spec.containers[0].imagePolicy`.
"""

ANY = None          # any value, not looked into
MAP = '*'           # a map with any keys (labels, annotations, nodeSelector)

OWNER_REF = {'apiVersion': ANY, 'kind': ANY, 'name': ANY, 'uid': ANY, 'controller': ANY,
             'blockOwnerDeletion': ANY}
OBJECT_META = {'name': ANY, 'generateName': ANY, 'namespace': ANY, 'selfLink': ANY, 'uid': ANY,
               'resourceVersion': ANY, 'generation': ANY, 'creationTimestamp': ANY,
               'deletionTimestamp': ANY, 'deletionGracePeriodSeconds': ANY, 'labels': MAP,
               'annotations': MAP, 'ownerReferences': [OWNER_REF], 'finalizers': ANY,
               'managedFields': ANY}
LABEL_SELECTOR = {'matchLabels': MAP,
                  'matchExpressions': [{'key': ANY, 'operator': ANY, 'values': ANY}]}
TOLERATION = {'key': ANY, 'operator': ANY, 'value': ANY, 'effect': ANY, 'tolerationSeconds': ANY}
RESOURCES = {'limits': MAP, 'requests': MAP, 'claims': ANY}
CONTAINER = {'name': ANY, 'image': ANY, 'command': ANY, 'args': ANY, 'workingDir': ANY,
             'ports': ANY, 'envFrom': ANY, 'env': ANY, 'resources': RESOURCES,
             'resizePolicy': ANY, 'restartPolicy': ANY, 'volumeMounts': ANY,
             'volumeDevices': ANY, 'livenessProbe': ANY, 'readinessProbe': ANY,
             'startupProbe': ANY, 'lifecycle': ANY, 'terminationMessagePath': ANY,
             'terminationMessagePolicy': ANY, 'imagePullPolicy': ANY, 'securityContext': ANY,
             'stdin': ANY, 'stdinOnce': ANY, 'tty': ANY}
POD_SPEC = {'volumes': ANY, 'initContainers': [CONTAINER], 'containers': [CONTAINER],
            'ephemeralContainers': ANY, 'restartPolicy': ANY,
            'terminationGracePeriodSeconds': ANY, 'activeDeadlineSeconds': ANY,
            'dnsPolicy': ANY, 'nodeSelector': MAP, 'serviceAccountName': ANY,
            'serviceAccount': ANY, 'automountServiceAccountToken': ANY, 'nodeName': ANY,
            'hostNetwork': ANY, 'hostPID': ANY, 'hostIPC': ANY, 'shareProcessNamespace': ANY,
            'securityContext': ANY, 'imagePullSecrets': ANY, 'hostname': ANY,
            'subdomain': ANY, 'affinity': ANY, 'schedulerName': ANY,
            'tolerations': [TOLERATION], 'hostAliases': ANY, 'priorityClassName': ANY,
            'priority': ANY, 'dnsConfig': ANY, 'readinessGates': ANY, 'runtimeClassName': ANY,
            'enableServiceLinks': ANY, 'preemptionPolicy': ANY, 'overhead': ANY,
            'topologySpreadConstraints': ANY, 'setHostnameAsFQDN': ANY, 'os': ANY,
            'hostUsers': ANY, 'schedulingGates': ANY, 'resourceClaims': ANY}
TOP = {'apiVersion': ANY, 'kind': ANY, 'metadata': OBJECT_META}

SCHEMAS = {
    'daemonsets': dict(TOP, spec={
        'selector': LABEL_SELECTOR,
        'template': {'metadata': OBJECT_META, 'spec': POD_SPEC},
        'updateStrategy': {'type': ANY, 'rollingUpdate': {'maxUnavailable': ANY, 'maxSurge': ANY}},
        'minReadySeconds': ANY, 'revisionHistoryLimit': ANY}, status=ANY),
    'pods': dict(TOP, spec=POD_SPEC, status=ANY),
    'nodes': dict(TOP, spec={'podCIDR': ANY, 'podCIDRs': ANY, 'providerID': ANY,
                             'unschedulable': ANY, 'taints': ANY, 'configSource': ANY,
                             'externalID': ANY}, status=ANY),
    'namespaces': dict(TOP, spec={'finalizers': ANY}, status=ANY),
}

DIRECTIVES = ('Ignore', 'Warn', 'Strict')


def unknown_fields(resource, obj, drop=False):
    """Paths of the fields of obj its type does not have ([] for unknown resources);
    with drop=True they are also removed from obj, as decoding into the type does."""
    schema = SCHEMAS.get(resource)
    out = []
    if schema is not None:
        _walk(schema, obj, '', out, drop)
    return out


def _walk(schema, value, path, out, drop):
    if schema is ANY or schema == MAP or value is None:
        return
    if isinstance(schema, list):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _walk(schema[0], item, '%s[%d]' % (path, i), out, drop)
        return
    if not isinstance(value, dict):
        return          # a type error, not an unknown field: validation's business
    for k, v in list(value.items()):
        sub = path + ('.' if path else '') + k
        if k not in schema:
            out.append(sub)
            if drop:
                del value[k]
        else:
            _walk(schema[k], v, sub, out, drop)
