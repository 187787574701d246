import type { LogLine } from "../../core/builder.ts";
import type { LogPage, LogTail, Store } from "../../core/store.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";
import type { Row } from "./rows.ts";

/**
 * A log's last write, moved on at most once a WRITE_STEP_MS: a build's live log is written every
 * quarter second, and retention needs no finer time than that.
 */
const NOTE_WRITE = `INSERT INTO log_writes (build_id, written_at) VALUES (?, ?)
  ON CONFLICT (build_id) DO UPDATE SET written_at = excluded.written_at WHERE excluded.written_at >= log_writes.written_at + ?`;
const WRITE_STEP_MS = 60_000;

/**
 * Due logs are found through log_writes' index on the last write, never by reading every chunk
 * or every finished build. CROSS JOIN holds SQLite to that order: without statistics it would
 * start from builds_by_state, every completed build there ever was.
 */
const DELETE_DUE_CHUNKS = `DELETE FROM log_chunks WHERE rowid IN (
  SELECT c.rowid FROM log_writes w CROSS JOIN builds b ON b.id = w.build_id CROSS JOIN log_chunks c ON c.build_id = w.build_id
  WHERE w.written_at < ? AND b.state = 'completed' AND b.completed_at < ? LIMIT ?)`;

/** The log half of the Store: chunks of lines, one per appendLog call, numbered from 0 per build. */
export class SqliteLogStore implements Pick<Store, "appendLog" | "readLog" | "readLogPage" | "logTail" | "deleteLogsBefore"> {
  private readonly sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.sql = sql;
  }

  async appendLog(id: string, lines: LogLine[], now: number = Date.now()): Promise<void> {
    if (lines.length === 0) return;
    const text = JSON.stringify(lines);
    this.sql.transaction(() => {
      this.sql
        .prepare("INSERT INTO log_chunks (build_id, seq, lines) VALUES (?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM log_chunks WHERE build_id = ?), ?)")
        .run(id, id, text);
      this.sql.prepare(NOTE_WRITE).run(id, now, WRITE_STEP_MS);
    });
  }

  async readLog(id: string): Promise<LogLine[]> {
    const rows = this.sql.prepare("SELECT lines FROM log_chunks WHERE build_id = ? ORDER BY seq").all(id) as Row[];
    return rows.flatMap((r) => JSON.parse(String(r.lines)) as LogLine[]);
  }

  async readLogPage(id: string, afterSeq: number, maxBytes: number): Promise<LogPage | null> {
    // octet_length reads a value's size from its header, not its content: cheap even for big chunks.
    const sizes = this.sql
      .prepare("SELECT seq, octet_length(lines) AS n FROM log_chunks WHERE build_id = ? AND seq > ? ORDER BY seq LIMIT 256")
      .all(id, afterSeq) as Row[];
    if (sizes.length === 0) return null;
    let lastSeq = Number(sizes[0]!.seq);
    let bytes = Number(sizes[0]!.n);
    for (const row of sizes.slice(1)) {
      bytes += Number(row.n);
      if (bytes > maxBytes) break;
      lastSeq = Number(row.seq);
    }
    // SQLite splits each chunk into its lines, so JavaScript never holds a chunk's whole text: a
    // string that big lives until a full collection, and a long log's pages would pile up in RSS.
    const rows = this.sql
      .prepare("SELECT j.value AS line FROM log_chunks c, json_each(c.lines) j WHERE c.build_id = ? AND c.seq > ? AND c.seq <= ? ORDER BY c.seq, j.key")
      .all(id, afterSeq, lastSeq) as Row[];
    return { lastSeq, lines: rows.map((r) => JSON.parse(String(r.line)) as LogLine) };
  }

  async logTail(id: string, maxBytes: number): Promise<LogTail> {
    const sizes = this.sql.prepare("SELECT seq, octet_length(lines) AS n FROM log_chunks WHERE build_id = ? ORDER BY seq DESC").all(id) as Row[];
    let totalBytes = 0;
    let shown = 0;
    let afterSeq = -1;
    let full = false;
    for (const row of sizes) {
      const n = Number(row.n);
      totalBytes += n;
      if (full) continue;
      // The newest chunk is always shown; older ones while they fit.
      if (shown > 0 && shown + n > maxBytes) {
        afterSeq = Number(row.seq);
        full = true;
      } else shown += n;
    }
    return { afterSeq, totalBytes, skippedBytes: totalBytes - shown };
  }

  async deleteLogsBefore(time: number, limit: number): Promise<number> {
    return this.sql.transaction(() => {
      const deleted = this.sql.prepare(DELETE_DUE_CHUNKS).run(time, time, limit);
      // A log whose chunks have all gone leaves the index; one written again meanwhile stays.
      this.sql.prepare("DELETE FROM log_writes WHERE written_at < ? AND NOT EXISTS (SELECT 1 FROM log_chunks c WHERE c.build_id = log_writes.build_id)").run(time);
      return Number(deleted.changes);
    });
  }
}
