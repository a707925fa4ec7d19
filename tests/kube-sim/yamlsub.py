"""A YAML subset reader, enough for Kubernetes manifests (RBAC, DaemonSets).

Supported: several documents (`---`, `...`), block mappings and sequences (also a
sequence at the same indentation as its key, and `- key: value` items), flow
sequences and mappings (`["get", "list"]`, `{app: x}`, over several lines too),
single- and double-quoted scalars, plain scalars (null/~, true/false, integers and
floats resolved as YAML 1.2 core does), comments, literal `|` and folded `>` block
scalars (with the `-`/`+` chomping indicators).  Not supported, and refused with a
YamlError naming the line: anchors, aliases, tags, complex keys, tabs for indentation.

load_all(text) -> list of documents (empty documents are dropped).
"""

import re

INT_RE = re.compile(r'^[-+]?[0-9]+$')
FLOAT_RE = re.compile(r'^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$')
ESCAPES = {'0': '\0', 'a': '\a', 'b': '\b', 't': '\t', '\t': '\t', 'n': '\n', 'v': '\v',
           'f': '\f', 'r': '\r', 'e': '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\',
           'N': '\x85', '_': '\xa0', 'L': '\u2028', 'P': '\u2029'}


class YamlError(ValueError):
    pass


class Line:
    __slots__ = ('no', 'indent', 'text', 'raw')

    def __init__(self, no, raw):
        self.no, self.raw = no, raw
        body = raw.lstrip(' ')
        self.indent = len(raw) - len(body)
        self.text = strip_comment(body).rstrip()


def strip_comment(s):
    """s without a trailing comment: '#' at the start or after white space, outside quotes."""
    quote = None
    i = 0
    while i < len(s):
        c = s[i]
        if quote:
            if c == '\\' and quote == '"':
                i += 1
            elif c == quote:
                if quote == "'" and s[i + 1:i + 2] == "'":
                    i += 1
                else:
                    quote = None
        elif c in '"\'' and (i == 0 or s[i - 1] in ' \t[{,:-?'):
            quote = c
        elif c == '#' and (i == 0 or s[i - 1] in ' \t'):
            return s[:i]
        i += 1
    return s


def load_all(text):
    docs, cur = [], []
    for no, raw in enumerate(text.replace('\r\n', '\n').split('\n'), 1):
        if raw.startswith('---') and raw[3:4] in ('', ' ', '\t'):
            docs.append(cur)
            cur = []
            if strip_comment(raw[3:]).strip():
                raise YamlError('line %d: content after "---" is not supported' % no)
        elif raw.startswith('...') and raw[3:].strip() == '':
            docs.append(cur)
            cur = []
        elif raw.startswith('%') and not cur:
            continue            # %YAML / %TAG directives
        else:
            cur.append(Line(no, raw))
    docs.append(cur)
    out = []
    for lines in docs:
        v = _Doc(lines).parse()
        if v is not None:
            out.append(v)
    return out


def load(text):
    docs = load_all(text)
    if len(docs) > 1:
        raise YamlError('expected one document, found %d' % len(docs))
    return docs[0] if docs else None


class _Doc:
    def __init__(self, lines):
        self.lines = lines
        self.i = 0

    def err(self, line, msg):
        return YamlError('line %d: %s' % (line.no, msg))

    def skip_blank(self):
        while self.i < len(self.lines) and not self.lines[self.i].text:
            self.i += 1

    def peek(self):
        self.skip_blank()
        return self.lines[self.i] if self.i < len(self.lines) else None

    def parse(self):
        first = self.peek()
        if first is None:
            return None
        for ln in self.lines:
            if '\t' in ln.raw[:ln.indent + 1] and ln.text:
                raise self.err(ln, 'tabs are not allowed for indentation')
        v = self.block(first.indent)
        extra = self.peek()
        if extra is not None:
            raise self.err(extra, 'unexpected content (bad indentation?)')
        return v

    def block(self, indent):
        ln = self.peek()
        if ln.text == '-' or ln.text.startswith('- '):
            return self.sequence(indent)
        if _split_key(ln.text) is None:
            self.i += 1
            return self.flow_or_scalar(ln, ln.text)
        return self.mapping(indent)

    def sequence(self, indent):
        out = []
        while True:
            ln = self.peek()
            if ln is None or ln.indent < indent:
                return out
            if ln.indent > indent or not (ln.text == '-' or ln.text.startswith('- ')):
                if ln.indent == indent:
                    return out
                raise self.err(ln, 'bad indentation of a sequence entry')
            rest = ln.text[1:].lstrip(' ')
            if not rest:
                self.i += 1
                out.append(self.nested(indent, allow_same=False))
                continue
            # "- key: v" or "- - x": the rest is a node at a deeper indentation
            ln.indent += len(ln.text) - len(rest)
            ln.text = rest
            out.append(self.block(ln.indent))

    def mapping(self, indent):
        out = {}
        while True:
            ln = self.peek()
            if ln is None or ln.indent < indent:
                return out
            if ln.indent > indent:
                raise self.err(ln, 'bad indentation of a mapping entry')
            kv = _split_key(ln.text)
            if kv is None:
                if ln.text == '-' or ln.text.startswith('- '):
                    return out
                raise self.err(ln, 'expected "key: value"')
            key, rest = kv
            key = self.key(ln, key)
            if key in out:
                raise self.err(ln, 'duplicate key %r' % key)
            self.i += 1
            if not rest:
                out[key] = self.nested(indent, allow_same=True)
            elif rest[0] in '|>':
                out[key] = self.block_scalar(ln, rest, indent)
            else:
                out[key] = self.flow_or_scalar(ln, rest)

    def key(self, ln, text):
        if text[:1] in '"\'':
            v, end = _quoted(text, 0, ln.no)
            if text[end:].strip():
                raise self.err(ln, 'bad key %r' % text)
            return v
        if text[:1] in '[{?&*!':
            raise self.err(ln, 'complex keys, anchors and tags are not supported')
        return text

    def nested(self, indent, allow_same):
        """The value of an entry whose text ended at ':' or '-'."""
        ln = self.peek()
        if ln is None or ln.indent < indent:
            return None
        if ln.indent > indent:
            return self.block(ln.indent)
        if allow_same and (ln.text == '-' or ln.text.startswith('- ')):
            return self.sequence(indent)
        return None

    def block_scalar(self, head, ind, indent):
        m = re.match(r'^([|>])([-+]?)([1-9]?)([-+]?)$', ind)
        if not m:
            raise self.err(head, 'bad block scalar header %r' % ind)
        style, chomp = m.group(1), m.group(2) or m.group(4)
        raw = []
        while self.i < len(self.lines):
            ln = self.lines[self.i]
            if ln.raw.strip() and ln.indent <= indent:
                break
            raw.append(ln.raw)
            self.i += 1
        width = int(m.group(3)) + indent if m.group(3) else \
            min((len(r) - len(r.lstrip(' ')) for r in raw if r.strip()), default=0)
        lines = [r[width:] if r.strip() else '' for r in raw]
        trailing = 0
        while lines and lines[-1] == '':
            lines.pop()
            trailing += 1
        if not lines:
            return ''
        text = '\n'.join(lines) if style == '|' else _fold(lines)
        if chomp == '-':
            return text
        return text + '\n' * (1 + (trailing if chomp == '+' else 0))

    def flow_or_scalar(self, ln, text):
        if text[0] in '[{':
            # a flow collection may continue on the following lines
            while _unbalanced(text) and self.i < len(self.lines):
                nxt = self.lines[self.i]
                self.i += 1
                text += ' ' + nxt.text.strip()
            p = _Flow(text, ln.no)
            v = p.value()
            p.ws()
            if p.pos != len(text):
                raise self.err(ln, 'unexpected %r after a flow collection' % text[p.pos:])
            return v
        if text[0] in '"\'':
            v, end = _quoted(text, 0, ln.no)
            if text[end:].strip():
                raise self.err(ln, 'unexpected %r after a quoted scalar' % text[end:].strip())
            return v
        return _plain(text, ln.no)


def _fold(lines):
    """Folded style: a single line break between text lines becomes a space, blank lines
    stay line breaks, more-indented lines keep theirs."""
    text, blanks, prev = '', 0, None
    for part in lines:
        if part == '':
            blanks += 1
            continue
        if prev is None:
            text = '\n' * blanks + part
        elif part.startswith(' ') or prev.startswith(' '):
            text += '\n' * (blanks + 1) + part
        elif blanks:
            text += '\n' * blanks + part
        else:
            text += ' ' + part
        blanks, prev = 0, part
    return text


def _unbalanced(text):
    depth, quote = 0, None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == '\\' and quote == '"':
                i += 1
            elif c == quote:
                quote = None
        elif c in '"\'':
            quote = c
        elif c in '[{':
            depth += 1
        elif c in ']}':
            depth -= 1
        i += 1
    return depth > 0


def _split_key(text):
    """(key, rest) when text is 'key: rest' or 'key:' outside quotes and flows, else None."""
    if text[:1] in '"\'':
        try:
            _, end = _quoted(text, 0, 0)
        except YamlError:
            return None
        if text[end:end + 1] == ':' and text[end + 1:end + 2] in ('', ' '):
            return text[:end], text[end + 1:].strip()
        return None
    if text[:1] in '[{':
        return None
    i = 0
    while True:
        i = text.find(':', i)
        if i < 0:
            return None
        if i + 1 == len(text) or text[i + 1] in ' \t':
            return text[:i].rstrip(), text[i + 1:].strip()
        i += 1


def _quoted(s, pos, no):
    q = s[pos]
    out, i = [], pos + 1
    while i < len(s):
        c = s[i]
        if q == "'" and c == "'":
            if s[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return ''.join(out), i + 1
        if q == '"' and c == '"':
            return ''.join(out), i + 1
        if q == '"' and c == '\\':
            e = s[i + 1:i + 2]
            if e == 'x' or e == 'u' or e == 'U':
                n = {'x': 2, 'u': 4, 'U': 8}[e]
                try:
                    out.append(chr(int(s[i + 2:i + 2 + n], 16)))
                except ValueError:
                    raise YamlError('line %d: bad escape \\%s' % (no, s[i + 1:i + 2 + n]))
                i += 2 + n
                continue
            if e not in ESCAPES:
                raise YamlError('line %d: unknown escape \\%s' % (no, e))
            out.append(ESCAPES[e])
            i += 2
            continue
        out.append(c)
        i += 1
    raise YamlError('line %d: unterminated quoted scalar' % no)


def _plain(text, no):
    t = text.strip()
    if t[:1] in '&*!':
        raise YamlError('line %d: anchors, aliases and tags are not supported (%s)' % (no, t))
    if t[:1] in '@`%' or t in ('-', '?'):
        raise YamlError('line %d: a plain scalar cannot start with %r' % (no, t[0]))
    if t in ('', '~', 'null', 'Null', 'NULL'):
        return None
    if t in ('true', 'True', 'TRUE'):
        return True
    if t in ('false', 'False', 'FALSE'):
        return False
    if INT_RE.match(t):
        return int(t)
    if FLOAT_RE.match(t) and any(ch.isdigit() for ch in t):
        return float(t)
    return t


class _Flow:
    def __init__(self, s, no):
        self.s, self.pos, self.no = s, 0, no

    def err(self, msg):
        return YamlError('line %d: %s in flow collection %r' % (self.no, msg, self.s))

    def ws(self):
        while self.pos < len(self.s) and self.s[self.pos] in ' \t':
            self.pos += 1

    def value(self):
        self.ws()
        c = self.s[self.pos:self.pos + 1]
        if c == '[':
            return self.seq()
        if c == '{':
            return self.map()
        if c in ('"', "'"):
            v, self.pos = _quoted(self.s, self.pos, self.no)
            return v
        start = self.pos
        while self.pos < len(self.s) and self.s[self.pos] not in ',]}' and \
                not (self.s[self.pos] == ':' and self.s[self.pos + 1:self.pos + 2] in (' ', ',', ']', '}', '')):
            self.pos += 1
        return _plain(self.s[start:self.pos], self.no)

    def seq(self):
        self.pos += 1
        out = []
        while True:
            self.ws()
            if self.s[self.pos:self.pos + 1] == ']':
                self.pos += 1
                return out
            out.append(self.value())
            self.ws()
            c = self.s[self.pos:self.pos + 1]
            if c == ',':
                self.pos += 1
            elif c != ']':
                raise self.err('expected "," or "]"')

    def map(self):
        self.pos += 1
        out = {}
        while True:
            self.ws()
            if self.s[self.pos:self.pos + 1] == '}':
                self.pos += 1
                return out
            k = self.value()
            self.ws()
            v = None
            if self.s[self.pos:self.pos + 1] == ':':
                self.pos += 1
                self.ws()
                if self.s[self.pos:self.pos + 1] not in (',', '}'):
                    v = self.value()
            if not isinstance(k, str):
                k = str(k).lower() if isinstance(k, bool) else ('null' if k is None else str(k))
            out[k] = v
            self.ws()
            c = self.s[self.pos:self.pos + 1]
            if c == ',':
                self.pos += 1
            elif c != '}':
                raise self.err('expected "," or "}"')
