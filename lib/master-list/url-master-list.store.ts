import type { HttpService } from '@nestjs/axios';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom } from 'rxjs';
import { MAX_FULL_LIST_BYTES } from '../clustershazbot.constants.js';
import { escapeForLog } from '../core/log-text.js';
import type { ServerList } from '../core/types.js';
import { ServerListDto } from '../dto/server-list.dto.js';
import { validateBody } from '../dto/validate-body.js';
import type { MasterListStore } from './master-list-store.interface.js';

/**
 * The master list was read but is not a server list. `errors`: one message per bad field, with
 * its place (`online.2.baseUrl …`). Not a reason to stop: the server starts from what it knows
 * and reads the list again later.
 */
export class MasterListInvalidError extends Error {
  constructor(readonly errors: string[]) {
    super(`not a valid server list: ${errors.slice(0, 5).map((e) => escapeForLog(e)).join('; ')}${errors.length > 5 ? `; and ${errors.length - 5} more` : ''}`);
    this.name = 'MasterListInvalidError';
  }
}

/**
 * A list written by hand may give an entry only its `baseUrl`: `monitor` is then false and
 * `lastUpdate` 0 (the entry serves as a seed; a live server's own word replaces it).
 */
function withDefaults(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return document;
  const out: Record<string, unknown> = { ...(document as Record<string, unknown>) };
  for (const list of ['online', 'offline', 'suspect']) {
    const entries = out[list];
    if (!Array.isArray(entries)) continue;
    out[list] = entries.map((e: unknown) =>
      typeof e === 'object' && e !== null && !Array.isArray(e) && typeof (e as { baseUrl?: unknown }).baseUrl === 'string' ? { monitor: false, lastUpdate: 0, ...(e as object) } : e,
    );
  }
  return out;
}

export interface UrlMasterListStoreSettings {
  downloadUrl: string;
  uploadUrl?: string;
  uploadAuth?: string;
  uploadMethod: 'PUT' | 'POST';
  timeoutMs: number;
}


/**
 * The built-in store: downloads with GET from http(s) or reads a file:// path; uploads the
 * merged ServerList as JSON with PUT (or POST) and the configured Authorization header, or
 * writes the file atomically (temporary file, then rename), so concurrent readers never see
 * half a document. Redirects are never followed.
 */
export class UrlMasterListStore implements MasterListStore {
  readonly save?: (list: ServerList) => Promise<void>;

  constructor(
    private readonly http: HttpService,
    private readonly settings: UrlMasterListStoreSettings,
  ) {
    if (settings.uploadUrl) this.save = (list) => this.upload(settings.uploadUrl!, list);
  }

  async load(): Promise<ServerList> {
    const { downloadUrl, timeoutMs } = this.settings;
    let document: unknown;
    if (downloadUrl.startsWith('file:')) {
      const text = await readFile(fileURLToPath(downloadUrl), 'utf8');
      try {
        document = JSON.parse(text);
      } catch {
        throw new MasterListInvalidError(['not valid JSON']);
      }
    } else {
      const response = await firstValueFrom(
        this.http.get(downloadUrl, {
          timeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
          maxRedirects: 0,
          maxContentLength: MAX_FULL_LIST_BYTES, // what a full view can take: what we upload, we can read back
          responseType: 'json',
          validateStatus: (status) => status === 200,
        }),
      );
      document = response.data;
    }
    const { value, errors } = await validateBody(ServerListDto, withDefaults(document), false);
    if (!value) throw new MasterListInvalidError(errors);
    return { online: value.online, offline: value.offline ?? [] };
  }

  private async upload(uploadUrl: string, list: ServerList): Promise<void> {
    if (uploadUrl.startsWith('file:')) {
      const path = fileURLToPath(uploadUrl);
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temporary, JSON.stringify(list, null, 2));
      await rename(temporary, path);
      return;
    }
    const { uploadAuth, uploadMethod, timeoutMs } = this.settings;
    await firstValueFrom(
      this.http.request({
        url: uploadUrl,
        method: uploadMethod,
        data: list,
        headers: { 'content-type': 'application/json', ...(uploadAuth ? { authorization: uploadAuth } : {}) },
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
        maxRedirects: 0,
        validateStatus: (status) => status >= 200 && status < 300,
      }),
    );
  }
}
