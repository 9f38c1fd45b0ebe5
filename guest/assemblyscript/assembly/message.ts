// Message: an owned FIPA ACL message, every field public, with builder
// methods for new messages and replies.
import { Performative, Priority } from "./performative";

/**
 * One ACL message. Inbound messages are decoded copies (valid after the
 * handler returns); for an outbound one set what you need — the host
 * stamps the sender, the id and the creation time, so leave those empty.
 */
export class Message {
  /** The message id: 16 UUID bytes, all zero when unassigned. */
  id: Uint8Array = new Uint8Array(16);
  performative: Performative;
  priority: Priority = Priority.Normal;
  /** Unix nanoseconds; 0 = unset. */
  createdAt: i64 = 0;
  /** Unix nanoseconds; 0 = no deadline. */
  replyBy: i64 = 0;
  sender: string = "";
  replyTo: string = "";
  language: string = "";
  encoding: string = "";
  ontology: string = "";
  protocol: string = "";
  conversationId: string = "";
  replyWith: string = "";
  inReplyTo: string = "";
  receivers: string[] = [];
  /** User-defined "X-" parameters. */
  params: Map<string, string> = new Map<string, string>();
  /** W3C trace context ("traceparent", "tracestate"). */
  traceContext: Map<string, string> = new Map<string, string>();
  content: Uint8Array = new Uint8Array(0);

  constructor(performative: Performative) {
    this.performative = performative;
  }

  /** Adds a receiver (an agent name or "topic:NAME"). */
  to(receiver: string): Message {
    this.receivers.push(receiver);
    return this;
  }

  withContent(content: Uint8Array): Message {
    this.content = content;
    return this;
  }

  /** Sets the content to text, as UTF-8. */
  withText(text: string): Message {
    this.content = Uint8Array.wrap(String.UTF8.encode(text));
    return this;
  }

  withParam(key: string, value: string): Message {
    this.params.set(key, value);
    return this;
  }

  withLanguage(v: string): Message { this.language = v; return this; }
  withEncoding(v: string): Message { this.encoding = v; return this; }
  withOntology(v: string): Message { this.ontology = v; return this; }
  withProtocol(v: string): Message { this.protocol = v; return this; }
  withConversationId(v: string): Message { this.conversationId = v; return this; }
  withReplyWith(v: string): Message { this.replyWith = v; return this; }
  withInReplyTo(v: string): Message { this.inReplyTo = v; return this; }
  withReplyTo(v: string): Message { this.replyTo = v; return this; }
  withReplyBy(unixNanos: i64): Message { this.replyBy = unixNanos; return this; }
  withPriority(p: Priority): Message { this.priority = p; return this; }

  /**
   * A reply with acl.Message.CreateReply's rules: to reply-to, else the
   * sender; conversation id, protocol, language, encoding and ontology
   * copied; in-reply-to = reply-with. No content.
   */
  reply(performative: Performative): Message {
    const r = new Message(performative);
    const to = this.replyTo.length > 0 ? this.replyTo : this.sender;
    if (to.length > 0) r.receivers.push(to);
    r.conversationId = this.conversationId;
    r.protocol = this.protocol;
    r.language = this.language;
    r.encoding = this.encoding;
    r.ontology = this.ontology;
    r.inReplyTo = this.replyWith;
    return r;
  }

  /** The content as text (UTF-8; invalid bytes become U+FFFD). */
  text(): string {
    return String.UTF8.decodeUnsafe(this.content.dataStart, this.content.length);
  }

  /** The id in the UUID text form. */
  idString(): string {
    const hex = "0123456789abcdef";
    let s = "";
    for (let i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s += "-";
      const b = this.id[i];
      s += hex.charAt(b >> 4) + hex.charAt(b & 15);
    }
    return s;
  }

  /** A field-by-field copy. */
  clone(): Message {
    const c = new Message(this.performative);
    c.id = this.id.slice(0);
    c.priority = this.priority;
    c.createdAt = this.createdAt;
    c.replyBy = this.replyBy;
    c.sender = this.sender;
    c.replyTo = this.replyTo;
    c.language = this.language;
    c.encoding = this.encoding;
    c.ontology = this.ontology;
    c.protocol = this.protocol;
    c.conversationId = this.conversationId;
    c.replyWith = this.replyWith;
    c.inReplyTo = this.inReplyTo;
    c.receivers = this.receivers.slice(0);
    c.params = copyMap(this.params);
    c.traceContext = copyMap(this.traceContext);
    c.content = this.content.slice(0);
    return c;
  }
}

function copyMap(m: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  const keys = m.keys();
  for (let i = 0; i < keys.length; i++) out.set(keys[i], m.get(keys[i]));
  return out;
}
