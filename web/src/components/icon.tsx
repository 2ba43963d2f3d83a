/**
 * The app's icons: small inline SVGs (24×24, stroked, currentColor), so nothing depends on an
 * emoji or icon font being installed.
 */
const PATHS = {
  image: 'M4 5h16v14H4z M4 16l5-5 4 4 3-3 4 4 M15 9.5a1.5 1.5 0 1 0 0.01 0',
  box: 'M4 4h6 M14 4h6v6 M20 14v6h-6 M10 20H4v-6 M4 10V4 M8 8h8v8H8z',
  polygon: 'M12 3l8 6-3 10H7L4 9z',
  point: 'M12 21s-6-5.5-6-10a6 6 0 0 1 12 0c0 4.5-6 10-6 10z M12 11a2 2 0 1 0 0.01 0',
  text: 'M4 6h16 M4 10h16 M4 14h10 M4 18h7',
  tag: 'M3 12V4h8l10 10-8 8z M7.5 8a0.5 0.5 0 1 0 0.01 0',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  mic: 'M12 3a3 3 0 0 0-3 3v5a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z M5 11a7 7 0 0 0 14 0 M12 18v3',
  wave: 'M3 12h2 M7 8v8 M11 5v14 M15 9v6 M19 11v2 M21 12h0',
  film: 'M4 5h16v14H4z M8 5v14 M16 5v14 M4 9h4 M4 15h4 M16 9h4 M16 15h4',
  chart: 'M3 20h18 M4 16l5-6 4 4 7-9',
  scale: 'M12 4v16 M7 20h10 M5 7h14 M5 7l-3 7h6z M19 7l-3 7h6z',
  folder: 'M3 6h6l2 2h10v11H3z',
  inbox: 'M3 13l3-8h12l3 8v6H3z M3 13h5l1 3h6l1-3h5',
  target: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M12 12h0.01',
  check: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M8 12l3 3 5-6',
  lock: 'M6 11h12v10H6z M8 11V7a4 4 0 0 1 8 0v4',
  compass: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M15.5 8.5l-2 5-5 2 2-5z',
} as const;

export type IconName = keyof typeof PATHS;

/** One icon; decorative unless given a label. */
export function Icon({ name, size = 22, label }: { name: IconName; size?: number; label?: string }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.7} strokeLinecap="round" strokeLinejoin="round" role={label ? 'img' : undefined} aria-label={label} aria-hidden={label ? undefined : true}>
      <path d={PATHS[name]} />
    </svg>
  );
}
