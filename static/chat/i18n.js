// Words in the page's language. Django's JavaScript catalogue (loaded before the
// modules, see templates/chat/index.html) defines `django.gettext`; without it
// (unit tests, a failed load) the English source strings are used.
// `makemessages -d djangojs` finds every gettext call in static/chat/.

const catalogue = () => globalThis.django;

export function gettext(text) {
  return catalogue()?.gettext?.(text) ?? text;
}

export function ngettext(singular, plural, count) {
  const translated = catalogue()?.ngettext?.(singular, plural, count);
  return translated ?? (count === 1 ? singular : plural);
}

/** `format("Try again in %(time)s.", {time})`: named placeholders, as Django's. */
export function format(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

/** The page's language (BCP 47), for Intl formatters. */
export function language() {
  return globalThis.document?.documentElement?.lang || "en";
}
