#!/usr/bin/env node
// Compiles contracts/src/*.sol with the pinned solc and writes one JSON artifact per contract
// (abi, bytecode, deployedBytecode, compiler) into the Python package, which ships them.
// Usage: node compile.js [OUT_DIR]   (default: ../app/deskgrid/chain/artifacts)
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const SRC = path.join(__dirname, "src");
const OUT = path.resolve(process.argv[2] || path.join(__dirname, "..", "app", "deskgrid", "chain", "artifacts"));
const CONTRACTS = ["RLC", "Hub", "VanityRequester"];

function findImport(importPath) {
  const candidates = [path.join(SRC, importPath), path.join(__dirname, "node_modules", importPath)];
  for (const file of candidates) {
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, "utf8") };
  }
  return { error: `not found: ${importPath}` };
}

const sources = {};
for (const file of fs.readdirSync(SRC).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(SRC, file), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    viaIR: true,
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

fs.mkdirSync(OUT, { recursive: true });
for (const name of CONTRACTS) {
  const unit = output.contracts[`${name}.sol`][name];
  const artifact = {
    contractName: name,
    compiler: `solc ${solc.version()}`,
    abi: unit.abi,
    bytecode: "0x" + unit.evm.bytecode.object,
    deployedBytecode: "0x" + unit.evm.deployedBytecode.object,
  };
  fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(artifact, null, 1) + "\n");
}
console.log(`wrote ${CONTRACTS.length} artifacts to ${OUT}`);
