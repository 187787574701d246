import { test } from "node:test";
import assert from "node:assert/strict";
import { DockerfileParser } from "dockerfile-ast";
import { repoWith } from "../../helpers/detect-context.ts";
import { requirementName, normalizeName } from "../../../src/detect/providers/python/pep508-name.ts";
import { nativeNeeds, NATIVE_PACKAGES } from "../../../src/detect/providers/python/native-packages.ts";
import { setsStaticRoot, BUILD_SECRET_KEY } from "../../../src/detect/providers/python/django-static.ts";
import { procfileRelease } from "../../../src/detect/procfile-release.ts";
import { pythonProvider } from "../../../src/detect/providers/python/python-provider.ts";

test("requirement names: PEP 508 forms, normalised; options, URLs and comments are not names", () => {
  const cases: [string, string | null][] = [
    ["psycopg2>=2.9", "psycopg2"], ["  Django [bcrypt] ; python_version > '3.8'", "django"], ["mysqlclient==2.2.6  # db", "mysqlclient"],
    ["uWSGI", "uwsgi"], ["zope.interface", "zope-interface"], ["My__Package...Name~=1", "my-package-name"], ["psycopg2-binary==2.9", "psycopg2-binary"],
    ["-r base.txt", null], ["--hash=sha256:abc", null], ["# psycopg2", null], ["", null], ["https://example.com/x.whl", null],
    ["./local/pkg", null], ["_private", null], ["trailing-", null],
  ];
  for (const [line, want] of cases) assert.equal(requirementName(line), want, line);
  assert.equal(normalizeName("A-_.b"), "a-b");
});

test("a hostile requirement line costs its length: a megabyte of name characters is no name, and returns", () => {
  assert.equal(requirementName("a".repeat(1_000_000)), null);
  assert.equal(requirementName("a-".repeat(500_000) + "!"), null);
  assert.equal(requirementName(" ".repeat(1_000_000) + "x"), "x");
});

test("native packages: build tools only for what compiles, runtime libraries for what loads them; wheels and odd names add nothing", () => {
  assert.deepEqual(nativeNeeds(["psycopg2", "flask"]), { because: ["psycopg2"], build: ["build-essential", "libpq-dev"], runtime: ["libpq5"] });
  assert.deepEqual(nativeNeeds(["psycopg"]), { because: ["psycopg"], build: [], runtime: ["libpq5"] });
  assert.deepEqual(nativeNeeds(["psycopg2-binary", "lxml", "cryptography", "__proto__", "constructor", "toString"]), { because: [], build: [], runtime: [] });
  for (const [name, entry] of Object.entries(NATIVE_PACKAGES)) {
    assert.equal(normalizeName(name), name, `${name} is written normalised`);
    assert.ok(entry.runtime.every((p) => !p.endsWith("-dev") && p !== "build-essential"), `${name}: build tools among runtime packages`);
  }
});

test("STATIC_ROOT: an assignment at the top level, not a comparison, a mention or an indented use", () => {
  assert.ok(setsStaticRoot('STATIC_ROOT = BASE_DIR / "staticfiles"\n'));
  assert.ok(setsStaticRoot("DEBUG = 0\nSTATIC_ROOT=os.path.join(BASE_DIR, 'static')\n"));
  assert.ok(setsStaticRoot('STATIC_ROOT: str = "/srv/static"\n'));
  assert.ok(!setsStaticRoot("if STATIC_ROOT == '':\n    pass\n"));
  assert.ok(!setsStaticRoot("# STATIC_ROOT = 'x'\n    STATIC_ROOT = 'y'\nSTATIC_ROOTS = []\n"));
  assert.ok(!setsStaticRoot("STATIC_ROOT".repeat(100_000)));
});

test("the Procfile's release line: one line of text, bounded", async () => {
  const of = async (procfile: string) => {
    const repo = repoWith({ Procfile: procfile });
    try {
      return await procfileRelease(repo.ctx);
    } finally {
      repo.cleanup();
    }
  };
  assert.equal(await of("web: gunicorn a.wsgi\nrelease:  python manage.py migrate \n"), "python manage.py migrate");
  assert.equal(await of("web: gunicorn a.wsgi\n"), null);
  assert.equal(await of("release: \n"), null);
  assert.equal(await of(`release: ${"x".repeat(2000)}\n`), null);
  assert.equal(await of("release: migrate\u0007now\n"), null);
  assert.equal(await of("  release: indented\n"), null);
});

test("collectstatic's SECRET_KEY is on its RUN line only: in no ENV of either stage", async () => {
  const repo = repoWith({
    "manage.py": "", "site1/__init__.py": "", "site1/wsgi.py": "", "site1/settings.py": "STATIC_ROOT = 'static'\n",
    "requirements.txt": "Django\ngunicorn\n", Procfile: "release: python manage.py migrate\n",
  });
  try {
    const plan = await pythonProvider.plan(repo.ctx);
    const ins = DockerfileParser.parse(plan.dockerfile).getInstructions();
    const run = ins.find((i) => i.getKeyword() === "RUN" && (i.getRawArgumentsContent() ?? "").includes("collectstatic"));
    assert.ok(run?.getRawArgumentsContent()?.includes(`SECRET_KEY=${BUILD_SECRET_KEY}`));
    for (const i of ins.filter((x) => ["ENV", "ARG"].includes(x.getKeyword()))) assert.doesNotMatch(i.getRawArgumentsContent() ?? "", /SECRET_KEY/);
    const disabled = repoWith({ "manage.py": "", "s/wsgi.py": "", "s/settings.py": "STATIC_ROOT = 'x'\n", "requirements.txt": "whitenoise\n" }, { config: { env: { DISABLE_COLLECTSTATIC: "1" } } });
    try {
      assert.doesNotMatch((await pythonProvider.plan(disabled.ctx)).dockerfile, /collectstatic/);
    } finally {
      disabled.cleanup();
    }
  } finally {
    repo.cleanup();
  }
});

test("fastapi's standard extra is found by a linear scan, in any manifest's quoting", async () => {
  const { hasFastapiExtra } = await import("../../../src/detect/providers/python/python-start.ts");
  assert.ok(hasFastapiExtra("fastapi[standard]==0.115\n"));
  assert.ok(hasFastapiExtra('dependencies = ["FastAPI [ all , x]>=0.1"]\n'));
  assert.ok(!hasFastapiExtra("fastapi[standardish]\nfastapi\n# fastapi[\n"));
  // A hostile file of unterminated extras: each is looked at for at most 200 characters.
  assert.ok(!hasFastapiExtra("fastapi[".repeat(200_000)));
});
