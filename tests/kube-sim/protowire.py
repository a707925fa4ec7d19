"""Just enough of the protobuf wire format to read the two review requests kubectl sends as
application/vnd.kubernetes.protobuf (SelfSubjectAccessReview, SelfSubjectRulesReview), as a
real API server does. Field numbers from k8s.io/api/authorization/v1's generated.proto and
apimachinery's runtime.Unknown envelope (magic "k8s\\0", typeMeta = 1, raw = 2)."""

MAGIC = b'k8s\x00'

# message -> {field number: (json name, sub-message or None for a string)}
RESOURCE_ATTRS = {1: ('namespace', None), 2: ('verb', None), 3: ('group', None), 4: ('version', None),
                  5: ('resource', None), 6: ('subresource', None), 7: ('name', None)}
NONRESOURCE_ATTRS = {1: ('path', None), 2: ('verb', None)}
ACCESS_SPEC = {1: ('resourceAttributes', RESOURCE_ATTRS), 2: ('nonResourceAttributes', NONRESOURCE_ATTRS)}
RULES_SPEC = {1: ('namespace', None)}
REVIEWS = {'SelfSubjectAccessReview': {2: ('spec', ACCESS_SPEC)},
           'SelfSubjectRulesReview': {2: ('spec', RULES_SPEC)}}
TYPE_META = {1: ('apiVersion', None), 2: ('kind', None)}


class DecodeError(ValueError):
    pass


def _varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise DecodeError('truncated varint')
        b = buf[i]
        i += 1
        value |= (b & 0x7f) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def fields(buf):
    """(field number, wire type, value) for each field of one message; value is an int for
    varints, bytes for length-delimited fields. Fixed-width fields are skipped."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise DecodeError('field %d runs past the end' % num)
            value, i = buf[i:i + n], i + n
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            continue
        else:
            raise DecodeError('wire type %d is not supported' % wire)
        yield num, wire, value


def message(buf, schema):
    """The known string and sub-message fields of buf as a JSON-shaped dict."""
    out = {}
    for num, wire, value in fields(buf):
        if num not in schema or wire != 2:
            continue
        name, sub = schema[num]
        out[name] = message(value, sub) if sub else value.decode('utf-8')
    return out


def decode_review(body):
    """The JSON-shaped object of a protobuf-encoded review; DecodeError when it is not one."""
    if not body.startswith(MAGIC):
        raise DecodeError('no protobuf envelope')
    env = {num: value for num, wire, value in fields(body[len(MAGIC):]) if wire == 2}
    meta = message(env.get(1, b''), TYPE_META)
    schema = REVIEWS.get(meta.get('kind'))
    if schema is None:
        raise DecodeError('kind %r cannot be read from protobuf here' % meta.get('kind'))
    obj = message(env.get(2, b''), schema)
    obj.update(meta)
    return obj
