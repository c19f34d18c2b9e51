/** A tiny DOM builder: text always goes in as text (never as HTML). */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

export interface Attrs {
  class?: string;
  title?: string;
  href?: string;
  id?: string;
  type?: string;
  value?: string;
  placeholder?: string;
  style?: string;
  colspan?: number;
  role?: string;
  tabindex?: string;
  checked?: boolean;
  data?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
  [attr: `aria-${string}`]: string;
}

function append(el: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) {
    for (const x of c as readonly Child[]) append(el, x);
    return;
  }
  el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v as Record<string, EventListener>)) el.addEventListener(ev, fn);
      } else if (k === 'data') {
        for (const [dk, dv] of Object.entries(v as Record<string, string>)) el.dataset[dk] = dv;
      } else if (k === 'checked') {
        (el as unknown as HTMLInputElement).checked = v as boolean;
      } else if (k === 'value') {
        (el as unknown as HTMLInputElement).value = v as string;
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  for (const c of children) append(el, c);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Element, ...children: Child[]): void {
  clear(el);
  for (const c of children) append(el, c);
}

/** Calls `fn` at most once per `ms`, with the last arguments. */
export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let t: number | undefined;
  return (...a: A) => {
    if (t !== undefined) clearTimeout(t);
    t = window.setTimeout(() => {
      t = undefined;
      fn(...a);
    }, ms);
  };
}

/** Calls `fn` now and then at most every `ms` while calls keep coming (leading and trailing). */
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let t: number | undefined;
  return () => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn();
      return;
    }
    if (t !== undefined) return;
    t = window.setTimeout(() => {
      t = undefined;
      last = Date.now();
      fn();
    }, ms - (now - last));
  };
}
