"""Certificates made with the openssl CLI, and the kubeconfig files."""

import base64
import os
import secrets
import subprocess

SERVER_EXT = ('basicConstraints=critical,CA:FALSE\n'
              'keyUsage=critical,digitalSignature,keyEncipherment\n'
              'extendedKeyUsage=serverAuth\n'
              'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
CLIENT_EXT = ('basicConstraints=critical,CA:FALSE\n'
              'keyUsage=critical,digitalSignature,keyEncipherment\n'
              'extendedKeyUsage=clientAuth\n')


def _openssl(*args, cwd):
    subprocess.run(('openssl',) + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(d, name, cn):
    _openssl('req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt',
             'ec_paramgen_curve:prime256v1', '-keyout', name + '.key', '-out', name + '.crt',
             '-days', '3650', '-subj', '/CN=' + cn,
             '-addext', 'basicConstraints=critical,CA:TRUE',
             '-addext', 'keyUsage=critical,keyCertSign,cRLSign', cwd=d)


def _leaf(d, name, subj, ca, ext):
    _openssl('req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
             '-keyout', name + '.key', '-out', name + '.csr', '-subj', subj, cwd=d)
    with open(os.path.join(d, name + '.ext'), 'w') as f:
        f.write(ext)
    _openssl('x509', '-req', '-in', name + '.csr', '-CA', ca + '.crt', '-CAkey', ca + '.key',
             '-set_serial', str(secrets.randbits(63)), '-days', '3650', '-sha256',
             '-extfile', name + '.ext', '-out', name + '.crt', cwd=d)
    os.unlink(os.path.join(d, name + '.csr'))
    os.unlink(os.path.join(d, name + '.ext'))


def ensure_certs(d):
    """Creates ca.crt/key, server.crt/key, client-ca.crt/key, client.crt/key in d unless
    they exist already."""
    os.makedirs(d, exist_ok=True)
    want = ['ca.crt', 'server.crt', 'server.key', 'client-ca.crt', 'client.crt', 'client.key']
    if all(os.path.exists(os.path.join(d, f)) for f in want):
        return
    _ca(d, 'ca', 'kube-sim-ca')
    _leaf(d, 'server', '/CN=kube-apiserver', 'ca', SERVER_EXT)
    _ca(d, 'client-ca', 'kube-sim-client-ca')
    _leaf(d, 'client', '/O=system:masters/CN=admin', 'client-ca', CLIENT_EXT)
    for f in os.listdir(d):
        if f.endswith('.key'):
            os.chmod(os.path.join(d, f), 0o600)


def admin_token(d):
    """The bearer token, kept in DIR/token so a restart keeps it."""
    path = os.path.join(d, 'token')
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    tok = 'kube-sim-' + secrets.token_hex(16)
    _write(path, tok + '\n')
    return tok


def _b64(path):
    with open(path, 'rb') as f:
        return base64.b64encode(f.read()).decode()


def _write(path, text):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def write_kubeconfigs(d, url, token):
    """DIR/kubeconfig: bearer token, CA by path.  DIR/kubeconfig-cert: client certificate
    and CA embedded as -data fields."""
    ca = os.path.abspath(os.path.join(d, 'ca.crt'))
    _write(os.path.join(d, 'kubeconfig'), '\n'.join([
        'apiVersion: v1', 'kind: Config',
        'clusters:', '- name: kube-sim', '  cluster:',
        '    server: %s' % url, '    certificate-authority: %s' % ca,
        'users:', '- name: admin', '  user:', '    token: %s' % token,
        'contexts:', '- name: kube-sim', '  context:', '    cluster: kube-sim',
        '    user: admin', '    namespace: default',
        'current-context: kube-sim', '']))
    _write(os.path.join(d, 'kubeconfig-cert'), '\n'.join([
        'apiVersion: v1', 'kind: Config',
        'clusters:', '- name: kube-sim', '  cluster:',
        '    server: %s' % url, '    certificate-authority-data: %s' % _b64(ca),
        'users:', '- name: admin-cert', '  user:',
        '    client-certificate-data: %s' % _b64(os.path.join(d, 'client.crt')),
        '    client-key-data: %s' % _b64(os.path.join(d, 'client.key')),
        'contexts:', '- name: kube-sim-cert', '  context:', '    cluster: kube-sim',
        '    user: admin-cert', '    namespace: default',
        'current-context: kube-sim-cert', '']))


def sa_token(d, name, token=None):
    """A service account's bearer token: given, or kept in DIR/token-sa-NAME."""
    path = os.path.join(d, 'token-sa-' + name)
    if token is None and os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    tok = token or 'kube-sim-sa-' + secrets.token_hex(16)
    _write(path, tok + '\n')
    return tok


def write_sa_kubeconfig(d, url, namespace, name, token):
    """DIR/kubeconfig-sa-NAME: the service account's token, its namespace as default."""
    ca = os.path.abspath(os.path.join(d, 'ca.crt'))
    _write(os.path.join(d, 'kubeconfig-sa-' + name), '\n'.join([
        'apiVersion: v1', 'kind: Config',
        'clusters:', '- name: kube-sim', '  cluster:',
        '    server: %s' % url, '    certificate-authority: %s' % ca,
        'users:', '- name: %s' % name, '  user:', '    token: %s' % token,
        'contexts:', '- name: kube-sim-sa-%s' % name, '  context:', '    cluster: kube-sim',
        '    user: %s' % name, '    namespace: %s' % namespace,
        'current-context: kube-sim-sa-%s' % name, '']))
