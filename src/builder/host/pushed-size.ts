import { execa } from "execa";

interface Manifest {
  config?: { size?: number };
  layers?: { size?: number }[];
}

/** Bytes a pull transfers: the pushed manifest's config plus its (compressed) layers. */
export async function pushedSize(ref: string, o: { env: Record<string, string>; plainHttp: boolean }): Promise<number | null> {
  const r = await execa("skopeo", ["inspect", "--raw", ...(o.plainHttp ? ["--tls-verify=false"] : []), `docker://${ref}`], { env: o.env, extendEnv: false, reject: false });
  if (r.failed) return null;
  try {
    const m = JSON.parse(r.stdout) as Manifest;
    return (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
  } catch {
    return null;
  }
}
