import { Etcd3 } from 'etcd3';

/** Compacts etcd's history up to `revision`: resourceVersions older than it answer 410 Gone. */
export async function compactEtcd(endpoint: string, revision: number): Promise<void> {
  const etcd = new Etcd3({ hosts: endpoint });
  try {
    await etcd.kv.compact({ revision, physical: true });
  } finally {
    etcd.close();
  }
}
