// Prisma's schema engine compiled to WebAssembly, so that migrations run on
// machines where Prisma's native engines cannot be downloaded.
// See ../shared/notes/environment.md ("Prisma 7 without the native engines").
import { existsSync } from 'node:fs';
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

const require = createRequire(import.meta.url);
const PROJECT_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const SCHEMA_PATH = path.join(PROJECT_ROOT, 'prisma/schema.prisma');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma/migrations');
const NO_FILTER = { externalTables: [], externalEnums: [] };

let wasmReady: Promise<void> | undefined;

/** Node 20 cannot import a .wasm module, so instantiate it by hand once per process. */
function loadWasm(): Promise<void> {
  wasmReady ??= (async () => {
    // The engine reports a Rust panic through this global before it throws.
    (globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY ??= {
      set_message: (message: string) => console.error(`Prisma schema engine panicked: ${message}`),
    };
    const bindingsFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(path.join(path.dirname(bindingsFile), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': engineBindings });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
  })();
  return wasmReady;
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

type PgFields = { fields: { dataTypeID: number }[] };
type RawResult = { columnTypes: number[] };
const PG_CHAR_OID = 18; // the one-byte "char" of the system catalogs
const PG_TEXT_OID = 25;
const CHARACTER_COLUMN = 6; // ColumnTypeEnum.Character of @prisma/driver-adapter-utils

/**
 * Describing a database reads catalog columns of PostgreSQL's one-byte "char"
 * type (constraint kinds), which the pg adapter refuses as unsupported while
 * the engine expects them as Character. node-postgres already returns them as
 * strings, so only the reported column type needs changing.
 */
function readCharColumnsAsCharacter(adapter: PgAdapter): void {
  const raw = adapter as unknown as {
    performIO(q: unknown): Promise<PgFields>;
    queryRaw(q: unknown): Promise<RawResult>;
  };
  const queryRaw = raw.queryRaw;
  raw.queryRaw = async (query) => {
    const charColumns: number[] = [];
    // queryRaw reads `this.performIO`: give this one call a version that notes the "char" columns.
    const recording = Object.create(adapter, {
      performIO: {
        value: async (q: unknown) => {
          const result = await raw.performIO.call(adapter, q);
          result.fields.forEach((field, i) => {
            if (field.dataTypeID !== PG_CHAR_OID) return;
            field.dataTypeID = PG_TEXT_OID;
            charColumns.push(i);
          });
          return result;
        },
      },
    });
    const result = await queryRaw.call(recording, query);
    for (const i of charColumns) result.columnTypes[i] = CHARACTER_COLUMN;
    return result;
  };
}

/**
 * The pg adapter runs a migration script by splitting it on every ";", which
 * breaks function bodies (our append-only ledger trigger). PostgreSQL runs a
 * multi-statement script itself, so hand it the whole script.
 */
function adaptForSchemaEngine(adapter: PgAdapter): PgAdapter {
  const client = adapter.underlyingDriver() as { query(sql: string): Promise<unknown> };
  readCharColumnsAsCharacter(adapter);
  adapter.executeScript = async (script: string) => {
    try {
      await client.query(script);
    } catch (error) {
      (adapter as unknown as { onError(e: unknown): never }).onError(error);
    }
  };
  return adapter;
}

/**
 * Separate fields rather than a connection string: the adapter opens the
 * shadow database by overriding `database`, which a connection string would win over.
 */
function poolConfigOf(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return {
    host: decodeURIComponent(url.hostname),
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password) || undefined,
    database: decodeURIComponent(url.pathname.slice(1)) || undefined,
  };
}

class WholeScriptPrismaPg extends PrismaPg {
  private readonly opened: PgAdapter[] = [];
  constructor(private readonly poolConfig: ReturnType<typeof poolConfigOf>) {
    super(poolConfig);
  }
  override async connect() {
    return this.track(await super.connect());
  }
  /**
   * The adapter's own shadow database drops the database while its pool is
   * still connected, which fails and leaks the pool: close the pool first.
   */
  override async connectToShadowDb() {
    const main = await this.connect();
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await new PrismaPg({ ...this.poolConfig, database }).connect();
    const closeShadowPool = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await closeShadowPool();
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
    };
    return this.track(shadow);
  }
  /** The engine does not close its connections when freed. */
  async disposeAll() {
    // Newest first: a shadow database is dropped through the main connection.
    for (const adapter of this.opened.splice(0).reverse()) await adapter.dispose().catch(() => {});
  }
  private track(adapter: PgAdapter) {
    this.opened.push(adapter);
    return adaptForSchemaEngine(adapter);
  }
}

/** Runs `work` with a schema engine on the database, then releases every connection. */
async function withEngine<T>(databaseUrl: string, work: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  await loadWasm();
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  const factory = new WholeScriptPrismaPg(poolConfigOf(databaseUrl));
  const ignoreEngineLog = () => {};
  const engine = (await engineBindings.SchemaEngine.new(
    { datamodels: [[SCHEMA_PATH, schema]] },
    ignoreEngineLog,
    bindMigrationAwareSqlAdapterFactory(factory),
  )) as SchemaEngine;
  try {
    return await work(engine);
  } finally {
    engine.free();
    await factory.disposeAll();
  }
}

async function readMigrations(): Promise<MigrationList> {
  await mkdir(MIGRATIONS_DIR, { recursive: true });
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrationDirectories = await Promise.all(
    folders.map(async (folder) => ({
      path: folder,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: await readFile(path.join(MIGRATIONS_DIR, folder, 'migration.sql'), 'utf8') },
      },
    })),
  );
  const lockPath = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
  const lockContent = await readFile(lockPath, 'utf8').catch(() => null);
  return {
    baseDir: MIGRATIONS_DIR,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/** Applies every folder of prisma/migrations not yet recorded in _prisma_migrations. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const migrationsList = await readMigrations();
  return withEngine(databaseUrl, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return result.appliedMigrationNames;
  });
}

/**
 * The SQL that takes a database built from the existing migrations (replayed
 * in a throwaway shadow database) to schema.prisma; undefined when they agree.
 */
export async function pendingSchemaChanges(databaseUrl: string): Promise<string | undefined> {
  const migrationsList = await readMigrations();
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  const diff = await withEngine(databaseUrl, (engine) =>
    engine.diff({
      from: migrationsList.migrationDirectories.length ? { tag: 'migrations', ...migrationsList } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: schema }] },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    }),
  );
  const sql = diff.stdout ?? '';
  if (diff.exitCode !== 2 || !sql.trim() || sql.includes('-- This is an empty migration.')) return undefined;
  return sql;
}

/** Writes the next migration folder from schema.prisma; undefined when there is nothing to write. */
export async function createMigration(databaseUrl: string, name: string): Promise<string | undefined> {
  const sql = await pendingSchemaChanges(databaseUrl);
  if (!sql) return undefined;
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const folder = `${stamp}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  await mkdir(path.join(MIGRATIONS_DIR, folder), { recursive: true });
  await writeFile(path.join(MIGRATIONS_DIR, folder, 'migration.sql'), sql);
  const lockPath = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
  if (!existsSync(lockPath)) {
    await writeFile(lockPath, '# Written by npm run db:migration; keep it in version control.\nprovider = "postgresql"\n');
  }
  return folder;
}
