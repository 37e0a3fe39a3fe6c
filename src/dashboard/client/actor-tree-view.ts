import type { DashboardActor } from '../actor-tree';
import { element } from './dom-helpers';

/**
 * Draws the actor tree: each actor with its state (an agent with its mailbox's depth too, over its
 * capacity when known), under the actor that spawned it. Clicking an actor calls `onSelect` with its id.
 *
 * @param list - the `ul` the tree goes in
 * @param actors - the actors, parents before children
 * @param selected - the id of the selected actor, if any
 * @param onSelect - called with the id of the actor clicked
 */
export function renderActorTree(
  list: HTMLElement,
  actors: readonly DashboardActor[],
  selected: string | undefined,
  onSelect: (actor: DashboardActor) => void,
): void {
  const children = new Map<string, DashboardActor[]>();
  for (const actor of actors) {
    const parent = actor.parent ?? '';
    children.set(parent, [...(children.get(parent) ?? []), actor]);
  }
  const branch = (parent: string): HTMLLIElement[] =>
    (children.get(parent) ?? []).map((actor) => {
      const item = element('li');
      const row = element('div', selected === actor.id ? 'actor selected' : 'actor');
      row.dataset['actorId'] = actor.id;
      row.dataset['machine'] = actor.machine;
      row.dataset['state'] = actor.state;
      const badge = element('span', 'badge', actor.state);
      badge.dataset['state'] = actor.state;
      row.append(element('span', 'name', actor.id));
      const { mailbox } = actor;
      if (mailbox !== undefined) {
        const depth = element('span', 'mailbox', mailbox.capacity === undefined ? `✉ ${mailbox.depth}` : `✉ ${mailbox.depth}/${mailbox.capacity}`);
        depth.title = 'messages waiting in its mailbox';
        depth.dataset['depth'] = String(mailbox.depth);
        row.dataset['mailboxDepth'] = String(mailbox.depth);
        row.append(depth);
      }
      row.append(badge);
      row.addEventListener('click', () => onSelect(actor));
      item.append(row);
      if (children.has(actor.id)) {
        const nested = element('ul');
        nested.append(...branch(actor.id));
        item.append(nested);
      }
      return item;
    });
  list.replaceChildren(...branch(''));
}
