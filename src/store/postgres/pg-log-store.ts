import type { LogLine } from "../../core/builder.ts";
import type { LogPage, LogTail, Store } from "../../core/store.ts";
import type { PgDatabase, Row } from "./pg-database.ts";

const UNIQUE_VIOLATION = "23505";

/**
 * The chunk and the log's last write in one statement. The write is moved on at most once a
 * WRITE_STEP_MS: a build's live log is written every quarter second, and retention needs no finer
 * time than that.
 */
const APPEND = `WITH chunk AS (
  INSERT INTO log_chunks (build_id, seq, lines) VALUES ($1, (SELECT COALESCE(MAX(seq), -1) + 1 FROM log_chunks WHERE build_id = $1), $2) RETURNING build_id)
INSERT INTO log_writes (build_id, written_at) SELECT build_id, $3::bigint FROM chunk
ON CONFLICT (build_id) DO UPDATE SET written_at = EXCLUDED.written_at WHERE EXCLUDED.written_at >= log_writes.written_at + $4::bigint`;
const WRITE_STEP_MS = 60_000;

/** Due logs are found through log_writes' index on the last write, never by reading every chunk. */
const DELETE_DUE_CHUNKS = `DELETE FROM log_chunks WHERE (build_id, seq) IN (
  SELECT c.build_id, c.seq FROM log_writes w JOIN builds b ON b.id = w.build_id JOIN log_chunks c ON c.build_id = w.build_id
  WHERE w.written_at < $1 AND b.state = 'completed' AND b.completed_at < $1 LIMIT $2)`;

/** The log half of the Store: chunks of lines, one per appendLog call, numbered from 0 per build. */
export class PgLogStore implements Pick<Store, "appendLog" | "readLog" | "readLogPage" | "logTail" | "deleteLogsBefore"> {
  private readonly db: PgDatabase;

  constructor(db: PgDatabase) {
    this.db = db;
  }

  async appendLog(id: string, lines: LogLine[], now: number = Date.now()): Promise<void> {
    if (lines.length === 0) return;
    const text = JSON.stringify(lines);
    // Two writers of one build (a lapsed lease's old worker and its new one) may pick the same
    // seq at once: the loser takes the next one.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.query(APPEND, [id, text, now, WRITE_STEP_MS]);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 4) throw err;
      }
    }
  }

  async readLog(id: string): Promise<LogLine[]> {
    const r = await this.db.query("SELECT lines FROM log_chunks WHERE build_id = $1 ORDER BY seq", [id]);
    return r.rows.flatMap((row: Row) => JSON.parse(String(row.lines)) as LogLine[]);
  }

  async readLogPage(id: string, afterSeq: number, maxBytes: number): Promise<LogPage | null> {
    const sizes = (await this.db.query("SELECT seq, octet_length(lines) AS n FROM log_chunks WHERE build_id = $1 AND seq > $2 ORDER BY seq LIMIT 256", [id, afterSeq])).rows;
    if (sizes.length === 0) return null;
    let lastSeq = Number(sizes[0]!.seq);
    let bytes = Number(sizes[0]!.n);
    for (const row of sizes.slice(1)) {
      bytes += Number(row.n);
      if (bytes > maxBytes) break;
      lastSeq = Number(row.seq);
    }
    // The chunks are split here, not in SQL as SQLite does: Postgres's JSON functions refuse a
    // \u0000 that a build may well have printed. A page is about maxBytes, so that bounds it.
    const r = await this.db.query("SELECT lines FROM log_chunks WHERE build_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq", [id, afterSeq, lastSeq]);
    return { lastSeq, lines: r.rows.flatMap((row: Row) => JSON.parse(String(row.lines)) as LogLine[]) };
  }

  async logTail(id: string, maxBytes: number): Promise<LogTail> {
    const sizes = (await this.db.query("SELECT seq, octet_length(lines) AS n FROM log_chunks WHERE build_id = $1 ORDER BY seq DESC", [id])).rows;
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
    const r = await this.db.query(DELETE_DUE_CHUNKS, [time, limit]);
    // A log whose chunks have all gone leaves the index. One written again meanwhile stays: its
    // write holds the row, and the delete then finds it no longer due.
    await this.db.query("DELETE FROM log_writes w WHERE w.written_at < $1 AND NOT EXISTS (SELECT 1 FROM log_chunks c WHERE c.build_id = w.build_id)", [time]);
    return r.rowCount ?? 0;
  }
}
