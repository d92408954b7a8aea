/**
 * The console's whole rendering layer: elements made with createElement, text with text nodes. There is no way to
 * pass markup in — no innerHTML, no inline style or handler attributes — so a key name or an audit path is text
 * wherever it appears (and Trusted Types in the CSP would refuse an HTML sink anyway).
 */
export type Child = Node | string | number | false | null | undefined | readonly Child[];

type Listeners = { readonly [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };

export interface Props {
  /** Event listeners, by event type. */
  readonly on?: Listeners;
  /** Attributes; `true` sets an empty one, `false`/null/undefined leave it out. */
  readonly [attribute: string]: string | number | boolean | null | undefined | Listeners;
}

/** Attribute names that would take markup, script or inline style: refused, whatever the value. */
const FORBIDDEN = /^(on|style$|srcdoc$|innerhtml$|outerhtml$)/i;

function setAttributes(element: Element, props: Props): void {
  for (const [name, value] of Object.entries(props)) {
    if (name === 'on') {
      for (const [type, listener] of Object.entries(value as Listeners)) element.addEventListener(type, listener as EventListener);
      continue;
    }
    if (FORBIDDEN.test(name)) throw new Error(`The console never sets ${name}`);
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'object') throw new Error(`Attribute ${name} takes a string or a number`);
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child as readonly Child[]);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child as string | number)));
  }
}

/** An HTML element with attributes, listeners and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setAttributes(element, props);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (the usage chart). */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, props);
  append(element, children);
  return element;
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let ids = 0;
/** A document-unique id (labels and aria references). */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}
