/**
 * A fake release store for install.sh and the GitHub Action: a local HTTP server (127.0.0.1,
 * an ephemeral port) serving the files of `vVERSION/` folders like GitHub's
 * `releases/download/`, with a request log, and helpers that build release archives the way
 * `make dist` does (a `.tar.gz` holding `secrets-orchestrator` and `LICENSE`).
 *
 * @module
 */

/** A running fake release store. */
export interface ReleaseServer {
  /** The base URL (`SECRETS_ORCHESTRATOR_BASE_URL`), without a trailing slash. */
  url: string;
  /** The paths requested so far, in order. */
  requests: string[];
  /** Stop the server. */
  close(): Promise<void>;
}

/** Serve `files` (path below the base URL → content); every other path is a 404. */
export function startReleaseServer(files: Record<string, Uint8Array | string>): ReleaseServer {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      const path = new URL(request.url).pathname.replace(/^\//, "");
      requests.push(path);
      const body = files[path];
      if (body === undefined) return new Response("Not Found", { status: 404 });
      return new Response(body as BodyInit, {
        headers: { "content-type": "application/octet-stream" },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** The lowercase hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A `.tar.gz` (made with the system `tar`) holding `secrets-orchestrator` (mode 755) and LICENSE. */
export async function releaseArchive(binary: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-archive-" });
  try {
    await Deno.writeTextFile(`${dir}/secrets-orchestrator`, binary, { mode: 0o755 });
    await Deno.chmod(`${dir}/secrets-orchestrator`, 0o755);
    await Deno.writeTextFile(`${dir}/LICENSE`, "MIT License\n");
    const output = await new Deno.Command("tar", {
      args: ["-C", dir, "-czf", `${dir}/out.tar.gz`, "secrets-orchestrator", "LICENSE"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
    return await Deno.readFile(`${dir}/out.tar.gz`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The archive name of `version` for `target`, as `make dist` names it. */
export const archiveName = (version: string, target: string): string =>
  `secrets-orchestrator-${version}-${target}.tar.gz`;

/**
 * The files of one release: `vVERSION/` with an archive per target (the binary given by
 * `binaryFor`) and SHA256SUMS over them (sha256sum format), plus `latest/VERSION`.
 */
export async function releaseFiles(
  version: string,
  targets: readonly string[],
  binaryFor: (target: string) => string,
): Promise<Record<string, Uint8Array | string>> {
  const files: Record<string, Uint8Array | string> = {};
  const sums: string[] = [];
  for (const target of targets) {
    const archive = await releaseArchive(binaryFor(target));
    files[`v${version}/${archiveName(version, target)}`] = archive;
    sums.push(`${await sha256Hex(archive)}  ${archiveName(version, target)}`);
  }
  files[`v${version}/SHA256SUMS`] = `${sums.join("\n")}\n`;
  files["latest/VERSION"] = `${version}\n`;
  return files;
}
