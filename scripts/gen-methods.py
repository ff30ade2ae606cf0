"""Generates schemas/<api>.methods.json: every REST method of an API, from the apitools client shipped with gcloud.

Each method is its HTTP verb, its path template under the host's root (`v1/projects/{projectsId}/...`, one `{x}` per
path segment) and its name: the gRPC method (`google.cloud.deploy.v1.CloudDeploy.ListDeployPolicies`, mixins as
`google.iam.v1.IAMPolicy.GetIamPolicy`…) when the API is a gRPC-transcoded one, else the discovery method id
(`storage.objects.compose`). Gantry answers a request for a method it does not serve with 501 UNIMPLEMENTED naming it.
Run through scripts/gen-schema.sh with gcloud's bundled Python; the output is committed.

usage: gen-methods.py <client module> <host> [<gRPC service, e.g. google.cloud.deploy.v1.CloudDeploy>]
"""
import importlib, inspect, json, re, sys
from urllib.parse import urlparse

MIXINS = {
    'getIamPolicy': 'google.iam.v1.IAMPolicy.GetIamPolicy',
    'setIamPolicy': 'google.iam.v1.IAMPolicy.SetIamPolicy',
    'testIamPermissions': 'google.iam.v1.IAMPolicy.TestIamPermissions',
}
OPERATIONS = {'list': 'ListOperations', 'get': 'GetOperation', 'delete': 'DeleteOperation', 'cancel': 'CancelOperation', 'wait': 'WaitOperation'}
LOCATIONS = {'list': 'ListLocations', 'get': 'GetLocation'}


def cap(s):
    return s[:1].upper() + s[1:]


def rpc_name(service, collection, verb, info, singular):
    """The gRPC method of a transcoded REST method, by the AIP naming rules (checked against the protos in a test)."""
    if verb in MIXINS:
        return MIXINS[verb]
    if collection.endswith('.operations') and verb in OPERATIONS:
        return 'google.longrunning.Operations.' + OPERATIONS[verb]
    if collection == 'projects.locations' and verb in LOCATIONS:
        return 'google.cloud.location.Locations.' + LOCATIONS[verb]
    resource = collection.split('.')[-1]
    if verb == 'list':
        return f'{service}.List{cap(resource)}'
    if verb == 'get':
        return f'{service}.Get{info.response_type_name}'
    if verb in ('create', 'patch'):
        return f'{service}.{"Create" if verb == "create" else "Update"}{cap(info.request_field)}'
    if verb == 'delete':
        return f'{service}.Delete{singular}'
    if info.request_field.endswith('Request'):
        # Custom verbs carry their request message: approveRolloutRequest → ApproveRollout, ignoreJobRequest → IgnoreJob.
        return f'{service}.{cap(info.request_field[:-len("Request")])}'
    return f'{service}.{cap(verb)}'


def template(path):
    """`v1/projects/{projectsId}/targets/{targetsId}:getIamPolicy` → `/v1/projects/*/targets/*:getIamPolicy`."""
    return '/' + re.sub(r'\{[^}/]+\}', '*', path.lstrip('/'))


def main():
    module, host = sys.argv[1], sys.argv[2]
    service = sys.argv[3] if len(sys.argv) > 3 else None
    mod = importlib.import_module(module)
    client_cls = next(c for _, c in inspect.getmembers(mod, inspect.isclass) if hasattr(c, 'BASE_URL') and c.__module__ == mod.__name__)
    client = client_cls(get_credentials=False)
    root = urlparse(client_cls.BASE_URL).path.lstrip('/')
    infos = []
    for _, svc in inspect.getmembers(client):
        if not hasattr(svc, 'GetMethodsList') or not hasattr(svc, '_method_configs'):
            continue
        for m in svc.GetMethodsList():
            info = svc.GetMethodConfig(m)
            uploads = getattr(svc, '_upload_configs', {}).get(m)
            infos.append((info, uploads))
    # A delete names its resource by the singular a get of the same path answers with.
    singular = {}
    for info, _ in infos:
        if info.method_id.endswith('.get'):
            singular[info.flat_path or info.relative_path] = info.response_type_name
    methods = []
    for info, uploads in sorted(infos, key=lambda x: x[0].method_id):
        path = root + (info.flat_path or info.relative_path)
        # Top-level methods (`logging.getCmekSettings`) have no collection.
        rest = info.method_id.split('.', 1)[1]
        collection, verb = rest.rsplit('.', 1) if '.' in rest else ('', rest)
        name = rpc_name(service, collection, verb, info, singular.get(info.flat_path or info.relative_path, '')) if service else info.method_id
        methods.append({'httpMethod': info.http_method, 'path': template(path), 'method': name})
        # Media uploads have a path of their own (`/upload/storage/v1/b/{bucket}/o`); apitools' resumable_path is
        # its own convention, not a URL clients send.
        if uploads and uploads.simple_path:
            methods.append({'httpMethod': info.http_method, 'path': template(uploads.simple_path), 'method': name})
    json.dump({'source': module, 'host': host, 'methods': methods}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


main()
