"""JSON decoding with the error texts of Go's encoding/json, which the real API server
passes on to clients (`invalid character 'n' looking for beginning of object key string`,
`unexpected end of JSON input`, `json: cannot unmarshal array into Go value of type ...`).

loads() checks the syntax the way Go's scanner walks it (so the first bad byte and the
phrase for where it was found are Go's), then decodes with Python's json module.
"""

import json

SPACE = b' \t\r\n'
ESCAPES = b'"\\/bfnrtu'
HEX = b'0123456789abcdefABCDEF'


class GoJSONError(ValueError):
    pass


def quote_char(c):
    """encoding/json's quoteChar: the byte as Go's strconv.Quote prints the rune, in ''."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    named = {7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\'}
    if c in named:
        s = named[c]
    elif c < 0x20 or c == 0x7f:
        s = '\\x%02x' % c
    elif 0x80 <= c < 0xa0 or c == 0xad:
        s = '\\u%04x' % c
    else:
        s = chr(c)
    return "'%s'" % s


def _bad(c, where):
    return GoJSONError('invalid character %s %s' % (quote_char(c), where))


class _Scanner:
    def __init__(self, data):
        self.data, self.i = data, 0

    def peek(self):
        while self.i < len(self.data) and self.data[self.i] in SPACE:
            self.i += 1
        if self.i >= len(self.data):
            raise GoJSONError('unexpected end of JSON input')
        return self.data[self.i]

    def value(self):
        c = self.peek()
        if c == 0x7b:
            return self.obj()
        if c == 0x5b:
            return self.arr()
        if c == 0x22:
            return self.string()
        if c == 0x2d or 0x30 <= c <= 0x39:
            return self.number()
        for word in (b'true', b'false', b'null'):
            if c == word[0]:
                self.i += 1
                return self.literal(word)
        raise _bad(c, 'looking for beginning of value')

    def obj(self):
        self.i += 1
        if self.peek() == 0x7d:
            self.i += 1
            return
        while True:
            c = self.peek()
            if c != 0x22:
                raise _bad(c, 'looking for beginning of object key string')
            self.string()
            c = self.peek()
            if c != 0x3a:
                raise _bad(c, 'after object key')
            self.i += 1
            self.value()
            c = self.peek()
            self.i += 1
            if c == 0x7d:
                return
            if c != 0x2c:
                raise _bad(c, 'after object key:value pair')

    def arr(self):
        self.i += 1
        if self.peek() == 0x5d:
            self.i += 1
            return
        while True:
            self.value()
            c = self.peek()
            self.i += 1
            if c == 0x5d:
                return
            if c != 0x2c:
                raise _bad(c, 'after array element')

    def next_byte(self):
        if self.i >= len(self.data):
            raise GoJSONError('unexpected end of JSON input')
        c = self.data[self.i]
        self.i += 1
        return c

    def string(self):
        self.i += 1
        while True:
            c = self.next_byte()
            if c == 0x22:
                return
            if c < 0x20:
                raise _bad(c, 'in string literal')
            if c == 0x5c:
                e = self.next_byte()
                if e not in ESCAPES:
                    raise _bad(e, 'in string escape code')
                for _ in range(4 if e == 0x75 else 0):
                    h = self.next_byte()
                    if h not in HEX:
                        raise _bad(h, 'in \\u hexadecimal character escape')

    def digits(self):
        n = 0
        while self.i < len(self.data) and 0x30 <= self.data[self.i] <= 0x39:
            self.i += 1
            n += 1
        return n

    def number(self):
        if self.data[self.i] == 0x2d:
            self.i += 1
            c = self.next_byte()
            if not 0x30 <= c <= 0x39:
                raise _bad(c, 'in numeric literal')
            self.i -= 1
        if self.data[self.i] == 0x30:
            self.i += 1
        else:
            self.digits()
        for mark, signs in ((b'.', b''), (b'eE', b'+-')):
            if self.i < len(self.data) and self.data[self.i] in mark:
                self.i += 1
                if signs and self.i < len(self.data) and self.data[self.i] in signs:
                    self.i += 1
                if self.i >= len(self.data):
                    raise GoJSONError('unexpected end of JSON input')
                if not self.digits():
                    raise _bad(self.data[self.i], 'in numeric literal')

    def literal(self, word):
        for expect in word[1:]:
            c = self.next_byte()
            if c != expect:
                raise _bad(c, "in literal %s (expecting %s)" % (word.decode(), quote_char(expect)))


def check(data):
    """Raises GoJSONError with Go's text if data (bytes) is not one JSON value."""
    s = _Scanner(bytes(data))
    s.value()
    while s.i < len(s.data):
        c = s.data[s.i]
        if c not in SPACE:
            raise _bad(c, 'after top-level value')
        s.i += 1


def loads(data):
    check(data)
    return json.loads(bytes(data).decode('utf-8', 'replace'))


def type_name(v):
    """The JSON type of a decoded value as Go's UnmarshalTypeError names it."""
    if isinstance(v, bool):
        return 'bool'
    if isinstance(v, dict):
        return 'object'
    if isinstance(v, list):
        return 'array'
    if isinstance(v, str):
        return 'string'
    return 'number'


def type_error(v, go_type):
    return 'json: cannot unmarshal %s into Go value of type %s' % (type_name(v), go_type)
