/**
 * The addresses YooKassa sends notifications from, as its documentation publishes them. Checking
 * them is defence in depth: what makes a forged notification harmless is that the function asks
 * the API about the object instead of believing the body.
 */
export const yookassaNotificationRanges: readonly string[] = [
  "185.71.76.0/27",
  "185.71.77.0/27",
  "77.75.153.0/25",
  "77.75.156.11/32",
  "77.75.156.35/32",
  "77.75.154.128/25",
  "2a02:5180::/32",
];

/** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of `ranges` (CIDR). */
export function inRanges(address: string, ranges: readonly string[]): boolean {
  const ip = parseAddress(address);
  if (!ip) return false;
  return ranges.some((range) => {
    const [base = "", bitsText] = range.split("/");
    const network = parseAddress(base);
    if (!network || network.length !== ip.length) return false;
    const bits = bitsText === undefined ? network.length * 8 : Number(bitsText);
    for (let i = 0; i < network.length; i += 1) {
      const take = Math.max(0, Math.min(8, bits - i * 8));
      if (take === 0) return true;
      const mask = (0xff << (8 - take)) & 0xff;
      if (((ip[i] ?? 0) & mask) !== ((network[i] ?? 0) & mask)) return false;
    }
    return true;
  });
}

/** Bytes of an address (4 for IPv4, 16 for IPv6; an IPv4-mapped IPv6 address as IPv4); undefined if malformed. */
function parseAddress(text: string): Uint8Array | undefined {
  const address = text.trim().replace(/^\[|\]$/g, "");
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((byte) => byte <= 255) ? Uint8Array.from(bytes) : undefined;
  }
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return parseAddress(mapped[1]);
  if (!/^[0-9a-f:]+$/i.test(address) || address.split("::").length > 2) return undefined;
  const [head = "", tail] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...headGroups, ...Array(missing).fill("0"), ...tailGroups];
  if (groups.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}
