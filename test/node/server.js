// Starts a real hotgrid server process for a test file and stops it with
// SIGTERM afterwards, asserting a clean exit.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..', '..');

function binary() {
  if (process.env.HOTGRID_BIN) return process.env.HOTGRID_BIN;
  const out = path.join(os.tmpdir(), `hotgrid-node-${process.pid}`);
  execFileSync('go', ['build', '-o', out, './cmd/hotgrid'], { cwd: root, stdio: 'inherit' });
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

async function start(config = path.join(__dirname, 'hotgrid.xml')) {
  const port = await freePort();
  const proc = spawn(binary(), ['server', '--bind-address', '127.0.0.1', '--port', String(port),
    '--server-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hotgrid did not start in 15 s:\n${output}`)), 15000);
    const onData = (d) => {
      output += d;
      if (output.includes('started in')) { clearTimeout(timer); resolve(); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`hotgrid exited (${code}):\n${output}`)); });
  });
  await started;
  return {
    port,
    output: () => output,
    stop: () => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hotgrid did not stop within 10 s of SIGTERM')), 10000);
      proc.removeAllListeners('exit');
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(); else reject(new Error(`hotgrid exit ${code} ${signal}:\n${output}`));
      });
      proc.kill('SIGTERM');
    }),
  };
}

module.exports = { start, root, fs };
