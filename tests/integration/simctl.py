#!/usr/bin/env python3
"""Small client for the integration tests: reads and pokes a running kube-sim.

usage: simctl.py STATE_DIR COMMAND [ARGS]
  get PATH                 GET an API path with the sim's token, print the JSON
  admin METHOD PATH [JSON] call the /_sim/ admin API, print the answer
  labelled KEY=VALUE       names of nodes carrying that label, one per line
  owned KEY                names of nodes carrying KEY and clyde-seed's annotation
  zones KEY=VALUE          "zone count" lines for the labelled nodes
  daemonsets NS            names of DaemonSets managed by clyde-seed in NS
  writes                   number of POST/PUT/PATCH/DELETE requests counted by the sim
  count CODE               number of responses with that status code
  nodes-with-image IMAGE   nodes whose status.images lists IMAGE (a name)
  requests                 the request log since it was last cleared: "VERB resource?query"
                           per request (settled first, watches included)
"""
import json
import os
import ssl
import sys
import urllib.parse
import urllib.request

OWNER = 'clyde-seed.io/labelled-by'


def ctx(d):
    c = ssl.create_default_context(cafile=os.path.join(d, 'ca.crt'))
    return c


def call(d, method, path, body=None, auth=True):
    url = open(os.path.join(d, 'url')).read().strip() + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if auth:
        req.add_header('Authorization', 'Bearer ' + open(os.path.join(d, 'token')).read().strip())
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, context=ctx(d), timeout=30) as r:
        text = r.read().decode()
    return json.loads(text) if text.strip() else None


def nodes(d, selector=None):
    q = '?labelSelector=' + urllib.parse.quote(selector) if selector else ''
    return call(d, 'GET', '/api/v1/nodes' + q)['items']


def main():
    d, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'get':
        print(json.dumps(call(d, 'GET', args[0]), indent=1))
    elif cmd == 'admin':
        body = json.loads(args[2]) if len(args) > 2 else None
        print(json.dumps(call(d, args[0], args[1], body, auth=False)))
    elif cmd == 'api':
        # api METHOD PATH [JSON]: an authenticated API request; prints the JSON answer
        body = json.loads(args[2]) if len(args) > 2 else None
        print(json.dumps(call(d, args[0], args[1], body)))
    elif cmd == 'labelled':
        for n in nodes(d, args[0]):
            print(n['metadata']['name'])
    elif cmd == 'owned':
        for n in nodes(d, args[0]):
            if OWNER in (n['metadata'].get('annotations') or {}):
                print(n['metadata']['name'])
    elif cmd == 'zones':
        count = {}
        for n in nodes(d, args[0]):
            z = n['metadata']['labels'].get('topology.kubernetes.io/zone', '-')
            count[z] = count.get(z, 0) + 1
        for z in sorted(count):
            print(z, count[z])
    elif cmd == 'daemonsets':
        sel = urllib.parse.quote('app.kubernetes.io/managed-by=clyde-seed')
        for ds in call(d, 'GET', '/apis/apps/v1/namespaces/%s/daemonsets?labelSelector=%s' % (args[0], sel))['items']:
            print(ds['metadata']['name'])
    elif cmd == 'writes':
        st = call(d, 'GET', '/_sim/stats', auth=False)
        print(sum(v for k, v in st['by_method'].items() if k in ('POST', 'PUT', 'PATCH', 'DELETE')))
    elif cmd == 'count':
        st = call(d, 'GET', '/_sim/stats', auth=False)
        print(st['by_code'].get(args[0], 0))
    elif cmd == 'nodes-with-image':
        for n in nodes(d):
            for img in n['status'].get('images') or []:
                if args[0] in img['names']:
                    print(n['metadata']['name'])
                    break
    elif cmd == 'requests':
        call(d, 'GET', '/_sim/settle', auth=False)
        url = open(os.path.join(d, 'url')).read().strip() + '/_sim/log'
        with urllib.request.urlopen(url, context=ctx(d), timeout=30) as r:
            for line in r.read().decode().splitlines():
                rec = json.loads(line)
                print('%s %s%s' % (rec['verb'], rec['resource'] or rec['path'],
                                   '?' + urllib.parse.unquote(rec['query']) if rec['query'] else ''))
    else:
        sys.exit('simctl: unknown command ' + cmd)


if __name__ == '__main__':
    main()
