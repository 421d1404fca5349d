"""Runs one scenario against a Kubernetes API server with Debian's python3-kubernetes client,
and prints what a Python user of that client sees as one JSON object on stdout.

    /usr/bin/python3 driver.py --kubeconfig PATH --namespace NS SCENARIO

The namespace must exist. Each scenario names its objects after itself, so scenarios can share
a namespace. Every watch is bounded by timeout_seconds so that the driver always ends; an API
error the scenario does not expect ends the driver with exit code 1 and the error on stderr,
and any scenario ends after DEADLINE_SECONDS.
"""
import argparse
import json
import signal
import sys
import threading

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

GROUP = 'shopfloor.dev'
VERSION = 'v1alpha1'
PLURAL = 'nodeworkloads'
WATCH_SECONDS = 10
# Past this the kernel ends the driver (SIGALRM), so that a request the server never answers
# cannot leave it running after the suite has given up.
DEADLINE_SECONDS = 60


def workload(name, labels=None):
    return {
        'apiVersion': f'{GROUP}/{VERSION}',
        'kind': 'NodeWorkload',
        'metadata': {'name': name, 'labels': labels or {}},
        'spec': {
            'placement': {'mode': 'Replicas', 'replicas': 1},
            'template': {'containers': [{'name': 'c', 'image': 'shopfloor.dev/busybox:test'}]},
        },
    }


def api_error(call):
    """What the client raises for `call`: the HTTP status and the Status object's reason."""
    try:
        call()
    except ApiException as err:
        body = json.loads(err.body) if err.body else {}
        return {'status': err.status, 'reason': body.get('reason'), 'kind': body.get('kind')}
    return None


def model_error(call):
    """The ValueError a typed model raises while reading what `call` returns, if any."""
    try:
        call()
    except ValueError as err:
        return str(err)
    return None


def event_summary(event):
    obj = event['raw_object']
    meta = obj.get('metadata', {})
    return {
        'type': event['type'],
        'name': meta.get('name'),
        'resourceVersion': meta.get('resourceVersion'),
        'replicas': obj.get('spec', {}).get('placement', {}).get('replicas'),
    }


def collect(stream, until):
    """The events of `stream` up to and including the first one `until` accepts (or the timeout)."""
    events = []
    for event in stream:
        events.append(event_summary(event))
        if until(event):
            break
    return events


def crud(api, ns):
    """Create, get, list by label, merge-patch spec and status, delete a NodeWorkload."""
    crd = client.CustomObjectsApi(api)
    args = (GROUP, VERSION, ns, PLURAL)
    created = crd.create_namespaced_custom_object(*args, workload('crud', {'scenario': 'crud'}))
    crd.create_namespaced_custom_object(*args, workload('crud-other', {'scenario': 'other'}))
    got = crd.get_namespaced_custom_object(*args, 'crud')
    listed = crd.list_namespaced_custom_object(*args, label_selector='scenario=crud')
    patched = crd.patch_namespaced_custom_object(*args, 'crud', {'spec': {'placement': {'replicas': 3}}})
    status = crd.patch_namespaced_custom_object_status(*args, 'crud', {'status': {'replicas': 3, 'readyReplicas': 2}})
    deleted = crd.delete_namespaced_custom_object(*args, 'crud')
    crd.delete_namespaced_custom_object(*args, 'crud-other')
    return {
        'created': {'name': created['metadata']['name'], 'generation': created['metadata'].get('generation'), 'uid': bool(created['metadata'].get('uid'))},
        'got': {'uid': got['metadata']['uid'] == created['metadata']['uid'], 'resourceVersion': got['metadata']['resourceVersion'] == created['metadata']['resourceVersion']},
        'listed': {'kind': listed.get('kind'), 'names': [i['metadata']['name'] for i in listed['items']], 'resourceVersion': bool(listed['metadata'].get('resourceVersion'))},
        'patched': {'replicas': patched['spec']['placement']['replicas'], 'generation': patched['metadata'].get('generation'), 'mode': patched['spec']['placement']['mode']},
        'status': {'status': status.get('status'), 'generation': status['metadata'].get('generation')},
        'deleted': {
            'kind': deleted.get('kind'),
            'status': deleted.get('status'),
            'name': deleted.get('metadata', {}).get('name'),
            'details': {k: v for k, v in deleted.get('details', {}).items() if k != 'uid'},
        },
        'afterDelete': api_error(lambda: crd.get_namespaced_custom_object(*args, 'crud')),
    }


def errors(api, ns):
    """The ApiExceptions a user meets: missing, duplicate, invalid, stale update."""
    crd = client.CustomObjectsApi(api)
    args = (GROUP, VERSION, ns, PLURAL)
    created = crd.create_namespaced_custom_object(*args, workload('errors'))
    stale = dict(created)
    crd.patch_namespaced_custom_object(*args, 'errors', {'spec': {'placement': {'replicas': 2}}})
    invalid = workload('errors-invalid')
    invalid['spec']['placement']['mode'] = 'Sometimes'
    result = {
        'missing': api_error(lambda: crd.get_namespaced_custom_object(*args, 'errors-missing')),
        'duplicate': api_error(lambda: crd.create_namespaced_custom_object(*args, workload('errors'))),
        'invalid': api_error(lambda: crd.create_namespaced_custom_object(*args, invalid)),
        'stale': api_error(lambda: crd.replace_namespaced_custom_object(*args, 'errors', stale)),
        'deleteMissing': api_error(lambda: crd.delete_namespaced_custom_object(*args, 'errors-missing')),
    }
    crd.delete_namespaced_custom_object(*args, 'errors')
    return result


def configmap_patches(api, ns):
    """The core client's patch types: a dict is a strategic merge patch, a list a JSON patch."""
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {'metadata': {'name': 'patches', 'labels': {'a': '1'}}, 'data': {'keep': 'k', 'drop': 'd'}})
    strategic = core.patch_namespaced_config_map('patches', ns, {'metadata': {'labels': {'b': '2'}}, 'data': {'drop': None, 'new': 'n'}})
    json_patch = core.patch_namespaced_config_map('patches', ns, [
        {'op': 'test', 'path': '/data/keep', 'value': 'k'},
        {'op': 'replace', 'path': '/data/keep', 'value': 'kept'},
        {'op': 'add', 'path': '/metadata/labels/c', 'value': '3'},
    ])
    failed_test = api_error(lambda: core.patch_namespaced_config_map('patches', ns, [{'op': 'test', 'path': '/data/keep', 'value': 'other'}]))
    listed = core.list_namespaced_config_map(ns, field_selector='metadata.name=patches')
    core.delete_namespaced_config_map('patches', ns)
    return {
        'strategic': {'data': strategic.data, 'labels': strategic.metadata.labels},
        'jsonPatch': {'data': json_patch.data, 'labels': json_patch.metadata.labels},
        'failedTest': failed_test and failed_test['status'],
        'listed': [i.metadata.name for i in listed.items],
    }


def paging(api, ns):
    """A list in pages of two, following `_continue` to the end."""
    core = client.CoreV1Api(api)
    for i in range(5):
        core.create_namespaced_config_map(ns, {'metadata': {'name': f'page-{i}', 'labels': {'scenario': 'paging'}}})
    pages = []
    token = None
    while True:
        page = core.list_namespaced_config_map(ns, label_selector='scenario=paging', limit=2, _continue=token)
        pages.append([i.metadata.name for i in page.items])
        token = page.metadata._continue
        if not token:
            break
    core.delete_collection_namespaced_config_map(ns, label_selector='scenario=paging')
    after = core.list_namespaced_config_map(ns, label_selector='scenario=paging')
    return {'pages': pages, 'afterDeleteCollection': len(after.items)}


def watch_from_resource_version(api, ns):
    """A watch from a list's resourceVersion sees only what changed after it."""
    crd = client.CustomObjectsApi(api)
    args = (GROUP, VERSION, ns, PLURAL)
    labels = {'scenario': 'from-rv'}
    crd.create_namespaced_custom_object(*args, workload('from-rv-before', labels))
    rv = crd.list_namespaced_custom_object(*args, label_selector='scenario=from-rv')['metadata']['resourceVersion']
    crd.patch_namespaced_custom_object(*args, 'from-rv-before', {'spec': {'placement': {'replicas': 2}}})
    crd.create_namespaced_custom_object(*args, workload('from-rv-after', labels))
    w = watch.Watch()
    stream = w.stream(crd.list_namespaced_custom_object, *args, label_selector='scenario=from-rv', resource_version=rv, timeout_seconds=WATCH_SECONDS)
    events = collect(stream, lambda e: e['raw_object'].get('metadata', {}).get('name') == 'from-rv-after')
    w.stop()
    for name in ('from-rv-before', 'from-rv-after'):
        crd.delete_namespaced_custom_object(*args, name)
    return {
        'events': [{'type': e['type'], 'name': e['name'], 'replicas': e['replicas']} for e in events],
        'allAfter': all(int(e['resourceVersion']) > int(rv) for e in events),
    }


def watch_sequence(api, ns):
    """A live watch sees a NodeWorkload ADDED, MODIFIED and DELETED, in that order."""
    crd = client.CustomObjectsApi(api)
    args = (GROUP, VERSION, ns, PLURAL)
    rv = crd.list_namespaced_custom_object(*args)['metadata']['resourceVersion']
    w = watch.Watch()
    stream = w.stream(crd.list_namespaced_custom_object, *args, field_selector='metadata.name=sequence', resource_version=rv, timeout_seconds=WATCH_SECONDS)
    seen = {}

    def watcher():
        seen['events'] = collect(stream, lambda e: e['type'] == 'DELETED')

    thread = threading.Thread(target=watcher)
    thread.start()
    crd.create_namespaced_custom_object(*args, workload('sequence'))
    crd.patch_namespaced_custom_object(*args, 'sequence', {'spec': {'placement': {'replicas': 4}}})
    crd.delete_namespaced_custom_object(*args, 'sequence')
    thread.join(WATCH_SECONDS + 5)
    w.stop()
    events = seen.get('events', [])
    versions = [int(e['resourceVersion']) for e in events]
    return {
        'events': [{'type': e['type'], 'name': e['name'], 'replicas': e['replicas']} for e in events],
        'increasing': versions == sorted(versions) and len(set(versions)) == len(versions),
    }


def watch_timeout(api, ns):
    """A watch with nothing to report ends when its timeout_seconds pass, with no events."""
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    events = list(watch.Watch().stream(core.list_namespaced_config_map, ns, field_selector='metadata.name=nothing', resource_version=rv, timeout_seconds=1))
    return {'events': len(events)}


def typed_models(api, ns):
    """The typed clients read every kind into their models, which refuse a missing required field."""
    core = client.CoreV1Api(api)
    coordination = client.CoordinationV1Api(api)
    events = client.EventsV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    extensions = client.ApiextensionsV1Api(api)
    now = '2026-01-01T00:00:00.000000Z'
    meta = client.V1ObjectMeta(name='typed', labels={'scenario': 'typed'})
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=meta, data={'k': 'v'}))
    core.create_namespaced_secret(ns, client.V1Secret(metadata=meta, string_data={'password': 's3cret'}))
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=meta))
    core.create_namespaced_event(ns, client.CoreV1Event(metadata=client.V1ObjectMeta(name='typed-core'), involved_object=client.V1ObjectReference(kind='ConfigMap', name='typed', namespace=ns), reason='Tested', message='core', type='Normal'))
    events.create_namespaced_event(ns, client.EventsV1Event(metadata=client.V1ObjectMeta(name='typed-events'), event_time=now, reporting_controller='shopfloor.dev/test', reporting_instance='test', action='Test', reason='Tested', note='events', type='Normal', regarding=client.V1ObjectReference(kind='ConfigMap', name='typed', namespace=ns)))
    coordination.create_namespaced_lease(ns, client.V1Lease(metadata=meta, spec=client.V1LeaseSpec(holder_identity='typed', lease_duration_seconds=40)))
    rbac.create_namespaced_role(ns, client.V1Role(metadata=meta, rules=[client.V1PolicyRule(api_groups=['shopfloor.dev'], resources=['nodeworkloads'], verbs=['get'])]))
    rbac.create_namespaced_role_binding(ns, client.V1RoleBinding(metadata=meta, role_ref=client.V1RoleRef(api_group='rbac.authorization.k8s.io', kind='Role', name='typed'), subjects=[client.V1Subject(kind='ServiceAccount', name='typed', namespace=ns)]))
    crd = extensions.read_custom_resource_definition(f'{PLURAL}.{GROUP}')
    result = {
        'configMap': core.read_namespaced_config_map('typed', ns).data,
        'secret': core.read_namespaced_secret('typed', ns).data,
        'serviceAccounts': [i.metadata.name for i in core.list_namespaced_service_account(ns, label_selector='scenario=typed').items],
        'coreEvents': sorted((e.metadata.name, e.reason, e.involved_object.name) for e in core.list_namespaced_event(ns).items if e.metadata.name.startswith('typed')),
        'eventsV1': [(e.reason, e.regarding.name, e.note) for e in events.list_namespaced_event(ns, field_selector='metadata.name=typed-events').items],
        'eventsV1WithCoreEvent': model_error(lambda: events.list_namespaced_event(ns)),
        'lease': coordination.read_namespaced_lease('typed', ns).spec.holder_identity,
        'role': [r.resources for r in rbac.read_namespaced_role('typed', ns).rules],
        'roleBinding': rbac.read_namespaced_role_binding('typed', ns).role_ref.name,
        'namespaces': ns in [n.metadata.name for n in core.list_namespace().items],
        'crd': {
            'kind': crd.spec.names.kind,
            'scope': crd.spec.scope,
            'storedVersions': crd.status.stored_versions,
            'conditions': sorted((c.type, c.status) for c in crd.status.conditions if c.type in ('Established', 'NamesAccepted')),
        },
    }
    for delete in (core.delete_namespaced_config_map, core.delete_namespaced_secret, core.delete_namespaced_service_account, coordination.delete_namespaced_lease, rbac.delete_namespaced_role, rbac.delete_namespaced_role_binding):
        delete('typed', ns)
    return result


def dynamic_discovery(api, ns):
    """The dynamic client finds NodeWorkload through discovery, then creates, lists and deletes one."""
    dyn = dynamic.DynamicClient(api)
    resource = dyn.resources.get(api_version=f'{GROUP}/{VERSION}', kind='NodeWorkload')
    dyn.create(resource, body=workload('dynamic'), namespace=ns)
    listed = dyn.get(resource, namespace=ns, field_selector='metadata.name=dynamic')
    dyn.delete(resource, name='dynamic', namespace=ns)
    configmaps = dyn.resources.get(api_version='v1', kind='ConfigMap')
    return {
        'resource': {'name': resource.name, 'namespaced': resource.namespaced, 'shortNames': resource.short_names, 'subresources': sorted(resource.subresources.keys())},
        'listed': [i.metadata.name for i in listed.items],
        'configmaps': {'name': configmaps.name, 'namespaced': configmaps.namespaced},
    }


SCENARIOS = {
    'crud': crud,
    'errors': errors,
    'configmap-patches': configmap_patches,
    'paging': paging,
    'watch-from-resource-version': watch_from_resource_version,
    'watch-sequence': watch_sequence,
    'watch-timeout': watch_timeout,
    'dynamic-discovery': dynamic_discovery,
    'typed-models': typed_models,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--kubeconfig', required=True)
    parser.add_argument('--namespace', required=True)
    parser.add_argument('scenario', choices=sorted(SCENARIOS))
    opts = parser.parse_args()
    signal.alarm(DEADLINE_SECONDS)
    api = config.new_client_from_config(config_file=opts.kubeconfig)
    try:
        result = SCENARIOS[opts.scenario](api, opts.namespace)
    except ApiException as err:
        print(f'{opts.scenario}: unexpected API error {err.status} {err.reason}: {err.body}', file=sys.stderr)
        sys.exit(1)
    finally:
        api.close()
    json.dump(result, sys.stdout, sort_keys=True)
    print()


if __name__ == '__main__':
    main()
