// A traffic split decided per request: each request goes to one target with the probability of its share, so a
// 25/75 split is observable over many requests, as Cloud Run's and App Hosting's front ends split them.

export interface Share { to: string; percent: number }

/** The target one request goes to (`r` in [0, 1)); undefined when no share has any percent. */
export function pickShare(shares: readonly Share[], r: number = Math.random()): string | undefined {
  let total = 0;
  for (const s of shares) if (s.percent > 0) total += s.percent;
  if (total <= 0) return undefined;
  let at = r * total;
  for (const s of shares) {
    if (s.percent <= 0) continue;
    if (at < s.percent) return s.to;
    at -= s.percent;
  }
  // Rounding at the very top of the range: the last share with traffic.
  for (let i = shares.length - 1; i >= 0; i--) if (shares[i].percent > 0) return shares[i].to;
  return undefined;
}
