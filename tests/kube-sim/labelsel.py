"""Label and field selectors, parsed and matched the way apimachinery does it.

parse_label_selector() takes the string form (`a=b,c in (x,y),!d`); it returns a
list of (key, op, values) requirements and raises SelectorError on bad input.
label_selector_from_struct() turns a metav1.LabelSelector into the same form, and
node_selector_terms_match() evaluates v1.NodeSelectorTerms (node affinity).
"""

import re

LABEL_NAME_RE = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
DNS1123_SUBDOMAIN_RE = re.compile(
    r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
LABEL_VALUE_RE = re.compile(r'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$')

SPECIAL = ' \t\n,()=!<>'


class SelectorError(Exception):
    """A selector that does not parse; str() is the message the API server gives."""


def _lex(s):
    toks = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in ' \t\n':
            i += 1
        elif s.startswith('!=', i) or s.startswith('==', i):
            toks.append(s[i:i + 2])
            i += 2
        elif c in ',()=!<>':
            toks.append(c)
            i += 1
        else:
            j = i
            while j < n and s[j] not in SPECIAL:
                j += 1
            toks.append(('id', s[i:j]))
            i = j
    return toks


def check_label_key(key):
    """Returns an error string for an invalid label key, or None."""
    if key.count('/') > 1:
        return ('a qualified name must consist of alphanumeric characters, '
                "'-', '_' or '.', and must start and end with an alphanumeric character")
    if '/' in key:
        prefix, name = key.split('/')
        if not prefix:
            return 'prefix part must be non-empty'
        if len(prefix) > 253 or not DNS1123_SUBDOMAIN_RE.match(prefix):
            return 'prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters'
    else:
        name = key
    if not name:
        return 'name part must be non-empty'
    if len(name) > 63:
        return 'name part must be no more than 63 characters'
    if not LABEL_NAME_RE.match(name):
        return ("name part must consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character")
    return None


def check_label_value(value):
    if len(value) > 63:
        return 'must be no more than 63 characters'
    if not LABEL_VALUE_RE.match(value):
        return ("a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character")
    return None


class _Parser:
    def __init__(self, s):
        self.s = s
        self.toks = _lex(s)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def ident(self, what='identifier'):
        t = self.take()
        if not isinstance(t, tuple):
            raise SelectorError('found \'%s\', expected: %s' % (t or '', what))
        return t[1]

    def key(self):
        k = self.ident()
        err = check_label_key(k)
        if err:
            raise SelectorError('key: Invalid value: "%s": %s' % (k, err))
        return k

    def value(self, key, v):
        err = check_label_value(v)
        if err:
            raise SelectorError('values[0][%s]: Invalid value: "%s": %s' % (key, v, err))
        return v

    @staticmethod
    def lit(t):
        return t[1] if isinstance(t, tuple) else t or ''

    def values_set(self, key):
        """'(' values ')' as the real parser reads it: '()' is the set {""}."""
        t = self.take()
        if t != '(':
            raise SelectorError("found '%s' expected: '('" % self.lit(t))
        t = self.peek()
        if t == ')':
            self.take()
            return ['']
        if not isinstance(t, tuple) and t != ',':
            raise SelectorError("found '%s', expected: ',', ')' or identifier" % self.lit(t))
        vals = []
        while True:
            t = self.take()
            if isinstance(t, tuple):
                vals.append(self.value(key, t[1]))
                nxt = self.peek()
                if nxt == ')':
                    break
                if nxt != ',':
                    raise SelectorError("found '%s', expected: ',' or ')'" % self.lit(nxt))
            elif t == ',':
                if not vals:
                    vals.append('')         # "(,"
                if self.peek() == ')':
                    vals.append('')         # ",)"
                    break
                if self.peek() == ',':
                    self.take()
                    vals.append('')         # ",,"
            else:
                raise SelectorError("found '%s', expected: ',', or identifier" % self.lit(t))
        self.take()     # ')'
        return list(dict.fromkeys(vals))

    def requirement(self):
        if self.peek() == '!':
            self.take()
            return (self.key(), '!', [])
        k = self.key()
        t = self.peek()
        if t is None or t == ',':
            return (k, 'exists', [])
        self.take()
        if t in ('=', '==', '!='):
            nxt = self.peek()
            v = self.take()[1] if isinstance(nxt, tuple) else ''
            if nxt is not None and nxt != ',' and not isinstance(nxt, tuple):
                raise SelectorError("found '%s', expected: identifier" % self.lit(nxt))
            return (k, '!=' if t == '!=' else '=', [self.value(k, v)])
        if t in ('<', '>'):
            v = self.ident('integer')
            try:
                int(v)
            except ValueError:
                raise SelectorError("for 'Gt', 'Lt' operators, the value must be an integer")
            return (k, t, [v])
        if isinstance(t, tuple) and t[1] in ('in', 'notin'):
            return (k, t[1], self.values_set(k))
        raise SelectorError("found '%s', expected: in, notin, =, ==, !=, gt, lt" % self.lit(t))

    def parse(self):
        """The real parser's loop: errors inside a requirement are prefixed
        'unable to parse requirement: '."""
        reqs = []
        while True:
            t = self.peek()
            if t is None:
                return reqs
            if not isinstance(t, tuple) and t != '!':
                raise SelectorError("found '%s', expected: !, identifier, or 'end of string'" % self.lit(t))
            try:
                reqs.append(self.requirement())
            except SelectorError as e:
                raise SelectorError('unable to parse requirement: %s' % e)
            t = self.take()
            if t is None:
                return reqs
            if t != ',':
                raise SelectorError("found '%s', expected: ',' or 'end of string'" % self.lit(t))
            nxt = self.peek()
            if not isinstance(nxt, tuple) and nxt != '!':
                raise SelectorError("found '%s', expected: identifier after ','" % self.lit(nxt))


def parse_label_selector(s):
    """Parses the string form; returns a list of (key, op, values)."""
    return _Parser(s or '').parse()


def requirement_matches(req, labels):
    key, op, values = req
    present = key in labels
    if op == 'exists':
        return present
    if op == '!':
        return not present
    if op in ('=', 'in'):
        return present and labels[key] in values
    if op in ('!=', 'notin'):
        return not present or labels[key] not in values
    if op in ('<', '>'):
        if not present:
            return False
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have < want if op == '<' else have > want
    return False


def labels_match(reqs, labels):
    labels = labels or {}
    return all(requirement_matches(r, labels) for r in reqs)


STRUCT_OPS = {'In': 'in', 'NotIn': 'notin', 'Exists': 'exists', 'DoesNotExist': '!',
              'Gt': '>', 'Lt': '<'}


def label_selector_from_struct(sel):
    """metav1.LabelSelector -> requirements; None for a nil selector (matches nothing)."""
    if sel is None:
        return None
    reqs = [(k, '=', [v]) for k, v in sorted((sel.get('matchLabels') or {}).items())]
    for e in sel.get('matchExpressions') or []:
        op = STRUCT_OPS.get(e.get('operator'))
        if op is None:
            raise SelectorError('"%s" is not a valid label selector operator' % e.get('operator'))
        reqs.append((e.get('key', ''), op, list(e.get('values') or [])))
    return reqs


def node_selector_terms_match(terms, node):
    """v1.NodeSelector terms are ORed; expressions within a term are ANDed."""
    labels = node.get('metadata', {}).get('labels') or {}
    fields = {'metadata.name': node.get('metadata', {}).get('name', '')}
    for term in terms or []:
        exprs = term.get('matchExpressions') or []
        mfields = term.get('matchFields') or []
        if not exprs and not mfields:
            continue
        ok = True
        for e in exprs:
            op = STRUCT_OPS.get(e.get('operator'))
            if op is None or not requirement_matches((e.get('key', ''), op, e.get('values') or []), labels):
                ok = False
                break
        for f in mfields if ok else []:
            op = STRUCT_OPS.get(f.get('operator'))
            if f.get('key') not in fields or op not in ('in', 'notin'):
                ok = False
                break
            if not requirement_matches((f['key'], op, f.get('values') or []), fields):
                ok = False
                break
        if ok:
            return True
    return False


def parse_field_selector(s, allowed):
    """Returns a list of (field, negate, value); raises SelectorError for unknown fields."""
    out = []
    for part in _split_fields(s or ''):
        if not part:
            continue
        for op in ('!=', '==', '='):
            idx = part.find(op)
            if idx >= 0:
                field, value = part[:idx], part[idx + len(op):]
                break
        else:
            raise SelectorError('invalid selector: \'%s\'; can\'t understand \'%s\'' % (s, part))
        if field not in allowed:
            raise SelectorError('field label not supported: %s' % field)
        out.append((field, op == '!=', value))
    return out


def _split_fields(s):
    parts, cur, esc = [], [], False
    for c in s:
        if esc:
            cur.append(c)
            esc = False
        elif c == '\\':
            esc = True
        elif c == ',':
            parts.append(''.join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append(''.join(cur))
    return parts


# field labels that are not the object's JSON path (events: "source" is the component)
FIELD_ALIASES = {'source': 'source.component'}


def get_field(obj, path):
    path = FIELD_ALIASES.get(path, path)
    cur = obj
    for p in path.split('.'):
        if not isinstance(cur, dict):
            return ''
        cur = cur.get(p)
    if cur is None:
        return ''
    if isinstance(cur, bool):
        return 'true' if cur else 'false'
    return str(cur)


def fields_match(reqs, obj):
    for field, negate, value in reqs:
        have = get_field(obj, field)
        if (have == value) == negate:
            return False
    return True
