import { readFile, writeFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { generateIdentity, identityToRecipient } from "age-encryption";
import {
  editSopsFile,
  encryptContent,
  extractValue,
  formatForPath,
  loadAgeIdentitiesFromEnvironment,
  openSopsDocument,
  emitPlain,
  parseExtractPath,
  replaceFile,
  SOPS_FORMATS,
  SopsError,
  type CryptRules,
  type SopsFormat,
} from "../secrets/sops/index.ts";

/** Runs a subcommand, printing failures as one `error:` line (never a stack, never a value). */
async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

async function readInput(file: string): Promise<Buffer> {
  return readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new SopsError("invalid-file", file, `cannot be read (${error.code ?? error.message})`);
  });
}

function typeOption(flag: string, description: string): Option {
  return new Option(flag, description).choices([...SOPS_FORMATS]);
}

interface TypeFlags {
  inputType?: SopsFormat;
  outputType?: SopsFormat;
  inPlace?: boolean;
  output?: string;
}

function addTypeOptions(command: Command): Command {
  return command
    .addOption(typeOption("--input-type <type>", "format of the input (default: from the file extension, like sops)"))
    .addOption(typeOption("--output-type <type>", "format of the output (default: the input type)"))
    .option("-i, --in-place", "write the result back to the file instead of stdout")
    .option("--output <file>", "write the result to this file instead of stdout");
}

async function writeResult(file: string, flags: TypeFlags, content: Uint8Array): Promise<void> {
  if (flags.inPlace) await replaceFile(file, content);
  else if (flags.output) await writeFile(flags.output, content, { mode: 0o600 });
  else process.stdout.write(content);
}

/** What age-keygen writes: a creation comment, the public key, the identity. */
function keyFile(identity: string, recipient: string, now: Date): string {
  return `# created: ${now.toISOString().replace(/\.\d+Z$/, "Z")}\n# public key: ${recipient}\n${identity}\n`;
}

function keygenCommand(): Command {
  return new Command("keygen")
    .description("generate an age identity (like age-keygen); the public key (recipient) goes to stderr")
    .option("-o, --output <file>", "write the identity to this file (created with mode 0600; never overwritten)")
    .action(async (flags: { output?: string }) =>
      run(async () => {
        const identity = await generateIdentity();
        const recipient = await identityToRecipient(identity);
        const text = keyFile(identity, recipient, new Date());
        if (flags.output) {
          await writeFile(flags.output, text, { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
            throw new Error(`cannot create ${flags.output} (${error.code ?? error.message})${error.code === "EEXIST" ? ": fjord never overwrites a key file" : ""}`);
          });
        } else process.stdout.write(text);
        if (flags.output || !process.stdout.isTTY) process.stderr.write(`Public key: ${recipient}\n`);
      }),
    );
}

interface EncryptFlags extends TypeFlags {
  age: string[];
  encryptedRegex?: string;
  unencryptedRegex?: string;
  encryptedSuffix?: string;
  unencryptedSuffix?: string;
  encryptedCommentRegex?: string;
  unencryptedCommentRegex?: string;
  macOnlyEncrypted?: boolean;
}

function collectRecipients(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((recipient) => recipient.trim()).filter(Boolean)];
}

function encryptCommand(): Command {
  const command = new Command("encrypt")
    .description("encrypt a YAML, JSON, dotenv or binary file with age, as `sops encrypt --age` does")
    .argument("<file>", "the plaintext file")
    .option("--age <recipient>", "age recipient (age1...); repeat or separate with commas (default: $SOPS_AGE_RECIPIENTS)", collectRecipients, [])
    .option("--encrypted-regex <regex>", "encrypt only values under keys matching the regex, e.g. '^(data|stringData)$'")
    .option("--unencrypted-regex <regex>", "leave values under keys matching the regex unencrypted")
    .option("--encrypted-suffix <suffix>", "encrypt only values under keys ending with the suffix")
    .option("--unencrypted-suffix <suffix>", "leave values under keys ending with the suffix unencrypted (default: _unencrypted)")
    .option("--encrypted-comment-regex <regex>", "encrypt only values after a comment matching the regex")
    .option("--unencrypted-comment-regex <regex>", "leave values after a comment matching the regex unencrypted")
    .option("--mac-only-encrypted", "compute the MAC over encrypted values only");
  addTypeOptions(command);
  return command.action(async (file: string, flags: EncryptFlags) =>
    run(async () => {
      const recipients = flags.age.length > 0 ? flags.age : collectRecipients(process.env.SOPS_AGE_RECIPIENTS ?? "", []);
      const rules: CryptRules = {};
      for (const field of ["encryptedRegex", "unencryptedRegex", "encryptedSuffix", "unencryptedSuffix", "encryptedCommentRegex", "unencryptedCommentRegex"] as const) {
        const value = flags[field];
        if (value !== undefined) rules[field] = value;
      }
      const format = flags.inputType ?? formatForPath(file);
      const encrypted = await encryptContent(await readInput(file), {
        format,
        outputFormat: flags.outputType ?? format,
        recipients,
        rules,
        macOnlyEncrypted: flags.macOnlyEncrypted === true,
        fileName: file,
      });
      await writeResult(file, flags, encrypted);
    }),
  );
}

function decryptCommand(): Command {
  const command = new Command("decrypt")
    .description("decrypt a SOPS file (identities from SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or sops's default key file); the MAC is verified")
    .argument("<file>", "the encrypted file")
    .option("--extract <path>", `print one value, e.g. '["data"]["password"]'`);
  addTypeOptions(command);
  return command.action(async (file: string, flags: TypeFlags & { extract?: string }) =>
    run(async () => {
      const format = flags.inputType ?? formatForPath(file);
      const outputFormat = flags.outputType ?? format;
      const { identities } = await loadAgeIdentitiesFromEnvironment(process.env);
      const document = await openSopsDocument(await readInput(file), { format, identities, fileName: file });
      try {
        const plaintext = flags.extract ? extractValue(document.branches, parseExtractPath(flags.extract), outputFormat) : emitPlain(document.branches, outputFormat);
        await writeResult(file, flags, plaintext);
      } catch (error) {
        throw error instanceof SopsError ? error : new SopsError("invalid-input", file, error instanceof Error ? error.message : String(error));
      }
    }),
  );
}

function editCommand(): Command {
  return new Command("edit")
    .description("decrypt a SOPS file into $SOPS_EDITOR or $EDITOR and encrypt it again with the same key and recipients")
    .argument("<file>", "the encrypted file")
    .addOption(typeOption("--input-type <type>", "format of the file (default: from the file extension)"))
    .action(async (file: string, flags: { inputType?: SopsFormat }) =>
      run(async () => {
        const { identities } = await loadAgeIdentitiesFromEnvironment(process.env);
        const outcome = await editSopsFile({ file, format: flags.inputType ?? formatForPath(file), identities });
        process.stderr.write(outcome === "saved" ? `${file} encrypted and saved\n` : `${file} has not changed\n`);
      }),
    );
}

export function secretsCommand(): Command {
  return new Command("secrets")
    .description("SOPS files encrypted with age, compatible with the sops CLI: keygen, encrypt, decrypt, edit")
    .addCommand(keygenCommand())
    .addCommand(encryptCommand())
    .addCommand(decryptCommand())
    .addCommand(editCommand());
}
