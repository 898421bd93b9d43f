/**
 * A DNS server on loopback for local clusters and tests (dns2, UDP): A, AAAA and SRV records
 * that can be replaced while servers run, NXDOMAIN for unknown names, and a silent mode (no
 * answers: the resolver times out). Point servers at it with SHAZBOT_DNS_SERVERS=`server`.
 */
import dns2 from 'dns2';

const { Packet } = dns2;

export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface NameRecords {
  a?: string[];
  aaaa?: string[];
  srv?: SrvRecord[];
  /** Seconds. @default 1 */
  ttl?: number;
}

export class LocalDns {
  private readonly zone = new Map<string, NameRecords>();
  private server?: ReturnType<typeof dns2.createServer>;
  private address?: { host: string; port: number };
  /** Answers nothing while true (clients time out). */
  silent = false;
  /** Questions received, as `TYPE name`. */
  readonly queries: string[] = [];

  /** Sets every record of a name (replacing what it had). */
  set(name: string, records: NameRecords): void {
    this.zone.set(name.toLowerCase(), records);
  }

  /** Removes a name: it answers NXDOMAIN. */
  delete(name: string): void {
    this.zone.delete(name.toLowerCase());
  }

  /** `address:port`, as SHAZBOT_DNS_SERVERS takes it. */
  get endpoint(): string {
    if (!this.address) throw new Error('LocalDns is not started');
    return `${this.address.host}:${this.address.port}`;
  }

  async start(host = '127.0.0.1'): Promise<this> {
    this.server = dns2.createServer({
      udp: true,
      handle: (request, send) => {
        const [question] = request.questions;
        const name = String(question?.name ?? '').toLowerCase();
        const type = Object.entries(Packet.TYPE).find(([, code]) => code === question?.type)?.[0] ?? String(question?.type);
        this.queries.push(`${type} ${name}`);
        if (this.silent) return;
        const response = Packet.createResponseFromRequest(request);
        const records = this.zone.get(name);
        if (!records) {
          response.header.rcode = Packet.RCODE.NXDOMAIN;
          void send(response);
          return;
        }
        const ttl = records.ttl ?? 1;
        const base = { name, class: Packet.CLASS.IN, ttl };
        if (question.type === Packet.TYPE.A) for (const address of records.a ?? []) response.answers.push({ ...base, type: Packet.TYPE.A, address } as never);
        if (question.type === Packet.TYPE.AAAA) for (const address of records.aaaa ?? []) response.answers.push({ ...base, type: Packet.TYPE.AAAA, address } as never);
        if (question.type === Packet.TYPE.SRV) {
          for (const r of records.srv ?? []) response.answers.push({ ...base, type: Packet.TYPE.SRV, priority: r.priority ?? 10, weight: r.weight ?? 10, port: r.port, target: r.target } as never);
        }
        void send(response);
      },
    });
    const addresses = await this.server.listen({ udp: { port: 0, address: host } });
    this.address = { host, port: addresses.udp!.port };
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
