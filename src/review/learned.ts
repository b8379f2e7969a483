// Sender addresses learned from clerks' decisions, merged into the roster the classifier
// sees. The config file stays the operator's: an address it lists wins over a learned one.
import { Classifier, type Rules } from '../core/classify.js';
import type { ParsedMail, Unit, UnitDecision, MessageDecision } from '../core/types.js';

export interface LearnedPair {
  address: string;
  unit: string;
}

/** The units with each learned address added to its unit (config addresses take precedence). */
export function withLearnedAddresses(
  units: readonly Unit[],
  learned: readonly LearnedPair[],
): Unit[] {
  const inConfig = new Set(units.flatMap((u) => u.addresses.map((a) => a.toLowerCase())));
  const extra = new Map<string, string[]>();
  for (const l of learned) {
    const a = l.address.toLowerCase();
    if (inConfig.has(a)) continue;
    extra.set(l.unit, [...(extra.get(l.unit) ?? []), a]);
  }
  return units.map((u) => {
    const more = extra.get(u.code);
    return more ? { ...u, addresses: [...u.addresses, ...more] } : u;
  });
}

/** Where the learned addresses come from (the review store), and a cheap change marker. */
export interface LearnedSource {
  learnedSignature(): string;
  learnedAddresses(): readonly LearnedPair[];
}

/**
 * The daemon's classifier, which keeps up with review decisions taken while it runs: before
 * each message it compares the learned-address marker and rebuilds its lookups only when a
 * clerk confirmed (or moved) a sender since. A subclass so Intake takes it as a Classifier.
 */
export class LearningClassifier extends Classifier {
  private signature: string | null = null;
  private inner: Classifier;

  constructor(
    private readonly base: Rules,
    private readonly source: LearnedSource,
  ) {
    super(base);
    this.inner = new Classifier(base);
  }

  private current(): Classifier {
    const sig = this.source.learnedSignature();
    if (sig !== this.signature) {
      this.inner = new Classifier({
        ...this.base,
        units: withLearnedAddresses(this.base.units, this.source.learnedAddresses()),
      });
      this.signature = sig;
    }
    return this.inner;
  }

  override classify(mail: ParsedMail): MessageDecision {
    return this.current().classify(mail);
  }

  override unitFor(
    mail: Pick<ParsedMail, 'fromAddress' | 'fromName' | 'subject' | 'headers'>,
    files: { filename: string }[],
  ): UnitDecision {
    return this.current().unitFor(mail, files);
  }
}
