'use strict';
// Runs on `npm install`: builds the native addon from source (release) unless a binary for
// this platform is already present (a per-platform package or an earlier build).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const have = fs.readdirSync(root).some((f) => /^warden\..+\.node$/.test(f));
if (have && !process.env.WARDEN_REBUILD) process.exit(0);
const napi = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'napi.cmd' : 'napi');
const cmd = fs.existsSync(napi) ? napi : 'npx';
const args = ['build', '--platform', '--release', '--no-js', '--dts', 'lib/native.d.ts'];
const r = spawnSync(cmd, cmd === 'npx' ? ['--yes', '@napi-rs/cli@3', ...args] : args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
