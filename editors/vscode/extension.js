// Starts `chaosc lsp` as the language server for .chaos files and connects VS Code to it
// over stdio.

'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

const CLIENT_ID = 'chaos';
const CLIENT_NAME = 'Chaos language server';

/** @type {LanguageClient | undefined} */
let client;

/** @type {vscode.OutputChannel | undefined} */
let outputChannel;

/**
 * Creates a client for the configured `chaosc` executable and starts it. A start failure
 * is shown to the user and leaves highlighting and snippets working without the server.
 */
async function startClient() {
  const settings = vscode.workspace.getConfiguration('chaos');
  const command = settings.get('server.path') || 'chaosc';
  const extraArgs = settings.get('server.extraArgs') || [];
  const executable = {
    command,
    args: ['lsp', ...extraArgs],
    transport: TransportKind.stdio,
  };
  const serverOptions = { run: executable, debug: executable };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'chaos' },
      { scheme: 'untitled', language: 'chaos' },
    ],
    outputChannel,
  };

  client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    client = undefined;
    outputChannel.appendLine(`Failed to start \`${command} lsp\`: ${reason}`);
    vscode.window.showErrorMessage(
      `Failed to start \`${command} lsp\`: ${reason}. Install chaosc or set ` +
        '"chaos.server.path" to the chaosc executable.',
    );
  }
}

/** Stops the running client, if any, and logs a failure to stop instead of raising it. */
async function stopClient() {
  if (!client) {
    return;
  }
  const running = client;
  client = undefined;
  try {
    await running.stop();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    outputChannel.appendLine(`Failed to stop the language server: ${reason}`);
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  outputChannel = vscode.window.createOutputChannel(CLIENT_NAME);
  context.subscriptions.push(outputChannel);
  context.subscriptions.push(
    vscode.commands.registerCommand('chaos.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('chaos.server')) {
        restartClient();
      }
    }),
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
