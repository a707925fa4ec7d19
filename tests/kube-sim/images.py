"""Image references: parse and normalise as containerd does, derive digest and size."""

import hashlib
import re

_COMP = r'[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*'
_DOMAIN = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?'
_REF_RE = re.compile(r'^(?P<name>(?:%s/)?%s(?:/%s)*)(?::(?P<tag>[\w][\w.-]{0,127}))?'
                     r'(?:@(?P<digest>sha256:[a-f0-9]{64}))?$' % (_DOMAIN, _COMP, _COMP))

MIN_SIZE = 10 * 1000 * 1000
MAX_SIZE = 200 * 1000 * 1000


class Ref:
    __slots__ = ('given', 'repo', 'tag', 'digest')

    def __init__(self, given, repo, tag, digest):
        self.given, self.repo, self.tag, self.digest = given, repo, tag, digest

    @property
    def normalized(self):
        if self.digest and not self.tag:
            return '%s@%s' % (self.repo, self.digest)
        return '%s:%s' % (self.repo, self.tag)

    def image_id(self):
        """containerd's repo digest: the given digest, else sha256 of the normalised name."""
        return '%s@%s' % (self.repo, self.digest or digest_of(self.normalized))

    def names(self):
        """The names node.status.images lists for this image."""
        out = [self.image_id()]
        if self.tag:
            out.append('%s:%s' % (self.repo, self.tag))
        return out


def digest_of(name):
    return 'sha256:' + hashlib.sha256(name.encode()).hexdigest()


def parse(ref):
    """Returns a Ref, or None for a reference that containerd would refuse."""
    if not ref or len(ref) > 4096:
        return None
    m = _REF_RE.match(ref)
    if not m:
        return None
    name = m.group('name')
    first, _, rest = name.partition('/')
    if rest and ('.' in first or ':' in first or first == 'localhost'):
        domain, path = first, rest
    else:
        domain, path = 'docker.io', name
    if domain == 'index.docker.io':
        domain = 'docker.io'
    if domain == 'docker.io' and '/' not in path:
        path = 'library/' + path
    if len(domain + '/' + path) > 255:
        return None
    tag = m.group('tag')
    digest = m.group('digest')
    if not tag and not digest:
        tag = 'latest'
    return Ref(ref, domain + '/' + path, tag, digest)


def size_of(ref):
    """A stable size in bytes between 10 MB and 200 MB."""
    h = int(hashlib.sha256(ref.repo.encode()).hexdigest()[:8], 16)
    return MIN_SIZE + h % (MAX_SIZE - MIN_SIZE)


def invalid_message(image):
    return ('Failed to apply default image tag "%s": couldn\'t parse image name "%s": '
            'invalid reference format' % (image, image))


def not_found_message(ref):
    n = ref.normalized
    return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": '
            'failed to resolve reference "%s": %s: not found' % (n, n, n))


def unauthorized_message(ref):
    n = ref.normalized
    return ('rpc error: code = Unknown desc = failed to pull and unpack image "%s": '
            'failed to resolve reference "%s": pull access denied, repository does not '
            'exist or may require authorization: server message: insufficient_scope: '
            'authorization failed' % (n, n))


def unavailable_message(ref):
    n = ref.normalized
    host = ref.repo.split('/')[0]
    return ('rpc error: code = Unavailable desc = failed to pull and unpack image "%s": '
            'failed to resolve reference "%s": failed to do request: Head "https://%s/v2/": '
            'dial tcp %s:443: connect: connection refused' % (n, n, host, host))


def check_platforms(platforms, error):
    """A rule's "platforms": a list of "os/arch" or "os/arch/variant" strings."""
    if not isinstance(platforms, list) or not platforms or \
            not all(isinstance(p, str) and 2 <= len(p.split('/')) <= 3 and all(p.split('/'))
                    for p in platforms):
        raise error('"platforms" must be a non-empty list of "os/arch" strings, e.g. ["linux/amd64"]')
    return list(platforms)


def node_platform(node):
    """(os, arch) from a node's kubernetes.io labels (nodeInfo as a fallback)."""
    labels = node.get('metadata', {}).get('labels') or {}
    info = node.get('status', {}).get('nodeInfo') or {}
    return (labels.get('kubernetes.io/os') or info.get('operatingSystem') or 'linux',
            labels.get('kubernetes.io/arch') or info.get('architecture') or 'amd64')


def platform_matches(rule, node):
    """False when the rule lists platforms and none is the node's (containerd picks the
    index entry by os/arch; a variant is not looked at)."""
    platforms = rule.get('platforms')
    if not platforms:
        return True
    os_, arch = node_platform(node)
    return any(p.split('/')[:2] == [os_, arch] for p in platforms)


def pull_kind(rule, node):
    """The pull outcome a rule gives on node: its behaviour, or 'platform-mismatch'."""
    kind = rule.get('behaviour', 'ok')
    if kind in ('ok', 'slow', 'crash') and not platform_matches(rule, node):
        return 'platform-mismatch'
    if kind == 'crash' and rule.get('crash_platforms') and \
            not platform_matches({'platforms': rule['crash_platforms']}, node):
        return 'ok'     # it runs on the other platforms (e.g. a helper built for amd64 only)
    return kind


def rate_limited_message(ref):
    """containerd when the registry answers 429 (Docker Hub's pull rate limit)."""
    n = ref.normalized
    host = ref.repo.split('/')[0]
    host = 'registry-1.docker.io' if host == 'docker.io' else host
    path = ref.repo.split('/', 1)[1] if '/' in ref.repo else ref.repo
    return ('rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to '
            'copy: httpReadSeeker: failed open: unexpected status code https://%s/v2/%s/'
            'manifests/%s: 429 Too Many Requests - Server message: toomanyrequests: You have '
            'reached your pull rate limit.' % (n, host, path, ref.tag or ref.digest or 'latest'))


def platform_message(ref):
    """containerd 1.6 when the image index has no manifest for the node's platform."""
    n = ref.normalized
    return ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": '
            'no match for platform in manifest: not found' % n)
