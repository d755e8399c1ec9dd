/**
 * dynalite in its own process for `npm run bench`, so the benchmark measures authwatch's own CPU and
 * memory, not the DynamoDB emulator's (in AWS, DynamoDB's work is not in the Lambda either).
 * Prints `{"port": N}` on stdout once listening; exits when its stdin closes.
 */
import { startDynaliteServer } from '../../shared/adapters/embedded-dynamo';

const server = await startDynaliteServer({});
process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
