// The sidebar's date groups: Today, Yesterday, Previous 7 days, then one per
// month, in the person's own time zone. Pure, for unit tests.

/** The group of a conversation last updated at `updated` (a Date or an ISO string),
 * seen at `now`: "today", "yesterday", "week", or "YYYY-MM" (local time). */
export function dateGroup(updated, now = new Date()) {
  const date = new Date(updated);
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((day(now) - day(date)) / 86_400_000);
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  if (days < 7) return "week";
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}`;
}
