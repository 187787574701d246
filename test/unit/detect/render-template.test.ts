import { test } from "node:test";
import assert from "node:assert/strict";
import { renderTemplate, startCmd } from "../../../src/detect/render-template.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

test("a simple start command is exec'd so it gets the stop signal; shell syntax and VAR=x prefixes are left alone", () => {
  const cases: [string, string][] = [
    ["npm start", "exec npm start"],
    ["gunicorn app:app --bind 0.0.0.0:$PORT", "exec gunicorn app:app --bind 0.0.0.0:$PORT"],
    ["exec node server.js", "exec node server.js"],
    ["python manage.py migrate && gunicorn mysite.wsgi", "python manage.py migrate && gunicorn mysite.wsgi"],
    ["node a.js | tee log", "node a.js | tee log"],
    ["WEB_CONCURRENCY=2 gunicorn app:app", "WEB_CONCURRENCY=2 gunicorn app:app"],
    ["node $(cat entry)", "node $(cat entry)"],
    ["node server.js > out.log", "node server.js > out.log"],
    ["gunicorn 'pkg:create_app()' --bind 0.0.0.0:$PORT", "exec gunicorn 'pkg:create_app()' --bind 0.0.0.0:$PORT"],
    ["gunicorn 'pkg:create_app()' && echo $(id)", "gunicorn 'pkg:create_app()' && echo $(id)"],
    ["echo 'it''s' ; id", "echo 'it''s' ; id"],
    ["echo 'open (", "echo 'open ("],
  ];
  for (const [command, shell] of cases) assert.equal(startCmd(command), JSON.stringify(shell), command);
});

test("every placeholder of a template must have a value", () => {
  assert.throws(() => renderTemplate("node", { runtime: "nodejs24" }), (err) => isMicroshipError(err) && err.kind === "infra" && /no value for \{\{/.test(err.message));
});
