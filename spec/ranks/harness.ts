// For the harness's own spec (no lock): ranks listed in --hang never report and never
// end; --exit-code makes every rank exit with that code after reporting; --big adds a
// string of that length to the report (mpirun splits long lines between ranks);
// --die=RANK:SIGNAL makes that rank kill itself with SIGNAL after reporting.
import { launchRank, numberArg, report, stringArg } from "./report.js";

const rank = launchRank();
const hang = stringArg("hang", "").split(",").filter(Boolean).map(Number);
if (hang.includes(rank)) {
  setInterval(() => {}, 1000);
} else {
  console.log(`rank ${rank} says hello`);
  report({ rank, big: "x".repeat(numberArg("big", 0)) });
  process.exitCode = numberArg("exit-code", 0);
  const [victim, signal] = stringArg("die", ":").split(":");
  if (victim !== "" && Number(victim) === rank) process.kill(process.pid, signal);
}
