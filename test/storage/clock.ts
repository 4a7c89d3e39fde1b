/** A clock the test moves; starts at real time so Azurite's own timestamps stay comparable. */
export function testClock() {
  let now = Date.now();
  return { clock: () => now, advance: (ms: number) => void (now += ms) };
}
