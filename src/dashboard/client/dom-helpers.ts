/**
 * The element the page's HTML has for `selector`.
 *
 * @param selector - a CSS selector the page's HTML matches
 * @returns the first element it matches
 * @throws Error when the page has none (the HTML and the script disagree)
 */
export function query<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (found === null) throw new Error(`the page has no ${selector}`);
  return found;
}

/**
 * A new element.
 *
 * @param tag - its tag name
 * @param className - its classes, if any
 * @param text - its text, if any
 * @returns the element, not yet in the page
 */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string | number): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}
