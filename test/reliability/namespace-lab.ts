/**
 * Test hosts in network namespaces this test creates: each server in its own namespace, on
 * one of two bridges; a veth "trunk" joins the bridges, and taking it down is a clean
 * partition. Each namespace also has a point-to-point management link to the test process
 * (its own /30), which the partition never touches, so both sides can be watched during the
 * split. Everything is removed in `destroy`, even after a failure.
 */
import { execFileSync } from 'node:child_process';

const run = (...args: string[]) => execFileSync(args[0], args.slice(1), { stdio: 'pipe' }).toString();

export class NamespaceLab {
  readonly id = `shz${process.pid % 100_000}`;
  /** A /24 of our own, only ever configured on these bridges and namespaces. */
  readonly subnet = `10.213.${process.pid % 250}`;
  readonly hosts: { ns: string; ip: string; adminIp: string; side: 'a' | 'b' }[] = [];
  /** Management links: a /30 per host, apart from the cluster subnet. */
  readonly adminNet = `10.214.${process.pid % 250}`;
  private created = false;

  static available(): boolean {
    try {
      run('ip', 'netns', 'list');
      return process.getuid?.() === 0;
    } catch {
      return false;
    }
  }

  setup(sides: ('a' | 'b')[]): void {
    this.created = true;
    const { id, subnet } = this;
    for (const side of ['a', 'b'] as const) {
      run('ip', 'link', 'add', `${id}${side}`, 'type', 'bridge');
      run('ip', 'link', 'set', `${id}${side}`, 'up');
    }
    run('ip', 'link', 'add', `${id}ta`, 'type', 'veth', 'peer', 'name', `${id}tb`);
    run('ip', 'link', 'set', `${id}ta`, 'master', `${id}a`);
    run('ip', 'link', 'set', `${id}tb`, 'master', `${id}b`);
    run('ip', 'link', 'set', `${id}ta`, 'up');
    run('ip', 'link', 'set', `${id}tb`, 'up');
    sides.forEach((side, i) => {
      const ns = `${id}n${i}`;
      const ip = `${subnet}.${i + 1}`;
      run('ip', 'netns', 'add', ns);
      run('ip', 'link', 'add', `${id}h${i}`, 'type', 'veth', 'peer', 'name', `${id}p${i}`);
      run('ip', 'link', 'set', `${id}p${i}`, 'netns', ns);
      run('ip', 'link', 'set', `${id}h${i}`, 'master', `${id}${side}`);
      run('ip', 'link', 'set', `${id}h${i}`, 'up');
      run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      run('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', `${id}p${i}`);
      run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', `${id}p${i}`, 'up');
      const hostSide = `${this.adminNet}.${4 * i + 1}`;
      const adminIp = `${this.adminNet}.${4 * i + 2}`;
      run('ip', 'link', 'add', `${id}m${i}`, 'type', 'veth', 'peer', 'name', `${id}q${i}`);
      run('ip', 'link', 'set', `${id}q${i}`, 'netns', ns);
      run('ip', 'addr', 'add', `${hostSide}/30`, 'dev', `${id}m${i}`);
      run('ip', 'link', 'set', `${id}m${i}`, 'up');
      run('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${adminIp}/30`, 'dev', `${id}q${i}`);
      run('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', `${id}q${i}`, 'up');
      this.hosts.push({ ns, ip, adminIp, side });
    });
  }

  wrap(i: number): string[] {
    return ['ip', 'netns', 'exec', this.hosts[i].ns];
  }

  partition(): void {
    run('ip', 'link', 'set', `${this.id}ta`, 'down');
  }

  heal(): void {
    run('ip', 'link', 'set', `${this.id}ta`, 'up');
  }

  destroy(): void {
    if (!this.created) return;
    const attempt = (...args: string[]) => {
      try {
        run(...args);
      } catch {
        /* already gone */
      }
    };
    this.hosts.forEach((h, i) => {
      attempt('ip', 'netns', 'del', h.ns);
      attempt('ip', 'link', 'del', `${this.id}h${i}`);
      attempt('ip', 'link', 'del', `${this.id}m${i}`);
    });
    attempt('ip', 'link', 'del', `${this.id}ta`);
    attempt('ip', 'link', 'del', `${this.id}a`);
    attempt('ip', 'link', 'del', `${this.id}b`);
  }
}
