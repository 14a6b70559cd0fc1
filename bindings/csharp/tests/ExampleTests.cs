using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace P2PNode.Tests
{
    /// <summary>Runs each example of examples/csharp as its own mono process.</summary>
    [TestFixture]
    public class ExampleTests
    {
        private static string Dir
        {
            get
            {
                string dir = Environment.GetEnvironmentVariable("P2PNODE_EXAMPLES_DIR");
                return string.IsNullOrEmpty(dir) ? Path.GetDirectoryName(typeof(ExampleTests).Assembly.Location) : dir;
            }
        }

        [Test]
        public void ProcessExitsWithNodesStillRunning()
        {
            string output = Run("ExitProbe");
            StringAssert.Contains("main returns", output);
            StringAssert.Contains("b stopped at exit", output, "running nodes are stopped at process exit");
        }

        [TestCase("ExtendNode", "node_message")]
        [TestCase("Callback", "Event: node_message")]
        [TestCase("Compression", "node_message (lzma)")]
        [TestCase("DictMessages", "node_message (Json)")]
        public void ExampleRunsAndEndsByItself(string name, string expected)
        {
            string output = Run(name);
            StringAssert.Contains(expected, output);
            StringAssert.EndsWith("end test", output.TrimEnd());
        }

        /// <summary>
        /// Two SecureNode.exe processes with key files in two formats: connect, a signed message,
        /// a ping whose latency shows in status, a discovery, and a clean stop of both.
        /// </summary>
        [Test]
        public void SecureNodeExampleTalksToAnother()
        {
            // Key files the example loads (it would generate a 4096-bit key otherwise).
            string keyA = TestKeys.NewPath("a.key"), keyB = TestKeys.NewPath("b.key");
            using (var n = new SecureNode("127.0.0.1", 0))
            {
                n.KeyPairLoad(TestKeys.File(0));
                n.KeyPairSave(keyA, "pw a", KeyFormat.P2PSecure);
                n.KeyPairLoad(TestKeys.File(1));
                n.KeyPairSave(keyB, "pw-b", KeyFormat.P2PNode);
            }
            using (var a = new LineProcess(Path.Combine(Dir, "SecureNode.exe"), keyA, "pw a"))
            using (var b = new LineProcess(Path.Combine(Dir, "SecureNode.exe"), keyB, "pw-b"))
            {
                string[] readyA = a.WaitLine(l => l.StartsWith("READY "), "READY").Split(' ');
                string[] readyB = b.WaitLine(l => l.StartsWith("READY "), "READY").Split(' ');
                Assert.AreEqual(3, readyA.Length);
                string idA = readyA[2], idB = readyB[2];
                int portA = int.Parse(readyA[1]), portB = int.Parse(readyB[1]);

                a.Send("connect 127.0.0.1 " + portB);
                // The event comes from the node's thread, the OK from the command
                // loop: either may be printed first.
                a.WaitLine(l => l == "OK connect " + idB, "OK connect");
                a.WaitSeen(l => l == "EVENT connected " + idB + " outbound", "connected outbound");
                b.WaitLine(l => l == "EVENT connected " + idA + " inbound", "connected inbound");

                a.Send("message {\"hello\": \"w\u00f6rld\", \"n\": 1.0}");
                a.WaitLine(l => l == "OK message", "OK message");
                string got = b.WaitLine(l => l.StartsWith("EVENT message "), "EVENT message");
                StringAssert.StartsWith("EVENT message " + idA + " " + idA + " message {", got);
                StringAssert.EndsWith("\"message\": {\"hello\": \"w\\u00f6rld\", \"n\": 1.0}}", got);
                Assert.IsTrue(SecureNode.CheckMessage(got.Substring(got.IndexOf('{'))), "the payload is the signed message");

                a.Send("message not json");
                StringAssert.StartsWith("ERR message -1 ", a.WaitLine(l => l.StartsWith("ERR message"), "ERR message"));

                a.Send("status");
                a.WaitLine(l => l == "OK status " + idB + "=-", "status before a pong");
                a.Send("ping");
                a.WaitLine(l => l == "OK ping", "OK ping");
                var latency = new Regex("^OK status " + Regex.Escape(idB) + "=[0-9][0-9.eE+-]*$");
                Assert.IsTrue(Wait.For(() =>
                {
                    a.Send("status");
                    return latency.IsMatch(a.WaitLine(l => l.StartsWith("OK status "), "status"));
                }), "a latency in status; saw:\n" + a.Output);

                a.Send("discovery");
                a.WaitLine(l => l == "OK discovery", "OK discovery");
                a.WaitLine(l => l == "EVENT discovery_answer " + idB + " " + idB + " " + idA + "@127.0.0.1:" + portA + "/inbound", "discovery answer");

                a.Send("stop");
                a.WaitLine(l => l == "OK stop", "OK stop");
                b.WaitLine(l => l == "EVENT disconnected " + idA, "disconnected");
                Assert.AreEqual(0, a.WaitExit(), "a's exit status:\n" + a.Output);
                b.CloseInput(); // end of input stops too
                b.WaitLine(l => l == "OK stop", "OK stop at end of input");
                Assert.AreEqual(0, b.WaitExit(), "b's exit status:\n" + b.Output);
            }
        }

        /// <summary>
        /// Three Chat.exe processes in one room: two join through the first; a line typed at one is printed
        /// once by each of the others, with its name, and never by itself; /quit and end of input leave.
        /// </summary>
        [Test]
        public void ChatExampleDeliversALineToTheRoom()
        {
            string exe = Path.Combine(Dir, "Chat.exe");
            using (var alice = new LineProcess(exe, "alice", "room"))
            {
                string ready = alice.WaitLine(l => l.StartsWith("chat: alice in 'room', listening on port "), "alice's port");
                string bootstrap = "127.0.0.1:" + ready.Substring(ready.LastIndexOf(' ') + 1);
                using (var bob = new LineProcess(exe, "bob", "room", bootstrap))
                using (var carol = new LineProcess(exe, "carol", "room", bootstrap))
                {
                    alice.WaitSeen(l => l == "* bob connected (encrypted)", "bob in the room");
                    alice.WaitSeen(l => l == "* carol connected (encrypted)", "carol in the room");
                    bob.Send("hello, room");
                    alice.WaitLine(l => l == "bob: hello, room", "bob's line at alice");
                    carol.WaitLine(l => l == "bob: hello, room", "bob's line at carol");
                    carol.Send("hi bob");
                    bob.WaitLine(l => l == "carol: hi bob", "carol's line at bob");
                    alice.WaitLine(l => l == "carol: hi bob", "carol's line at alice");
                    bob.Send("/quit");
                    Assert.AreEqual(0, bob.WaitExit(), bob.Output);
                    carol.CloseInput();
                    Assert.AreEqual(0, carol.WaitExit(), carol.Output);
                    Assert.IsFalse(bob.Output.Contains("bob: hello"), "a line is never delivered back to its author:\n" + bob.Output);
                    Assert.AreEqual(1, Regex.Matches(carol.Output, "bob: hello, room").Count, "once:\n" + carol.Output);
                }
                alice.Send("/quit");
                alice.WaitLine(l => l == "chat: alice left", "alice left");
                Assert.AreEqual(0, alice.WaitExit(), alice.Output);
                Assert.AreEqual(1, Regex.Matches(alice.Output, "bob: hello, room").Count, "once:\n" + alice.Output);
            }
        }

        /// <summary>Runs bin/NAME.exe on mono; asserts that it ends by itself with status 0; returns its output.</summary>
        private static string Run(string name)
        {
            string exe = Path.Combine(Dir, name + ".exe");
            Assert.IsTrue(File.Exists(exe), exe + " is missing (make examples)");
            var info = new ProcessStartInfo("mono", "\"" + exe + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Dir,
            };
            using (var p = Process.Start(info))
            {
                var stderr = p.StandardError.ReadToEndAsync();
                var stdout = p.StandardOutput.ReadToEndAsync();
                // A hang guard, not a timing assertion: the examples take well under a second.
                if (!p.WaitForExit(60000))
                {
                    p.Kill();
                    Assert.Fail(name + " did not end by itself");
                }
                p.WaitForExit();
                string output = stdout.Result;
                Assert.AreEqual(0, p.ExitCode, name + " failed:\n" + output + stderr.Result);
                return output;
            }
        }
    }

    /// <summary>A mono process driven line by line: commands to its stdin, waits on its stdout lines.</summary>
    internal sealed class LineProcess : IDisposable
    {
        private readonly Process process;
        private readonly StreamWriter input;
        private readonly List<string> lines = new List<string>();
        private readonly StringBuilder errors = new StringBuilder();
        private int taken;

        public LineProcess(string exe, params string[] args)
        {
            Assert.IsTrue(File.Exists(exe), exe + " is missing (make examples)");
            var info = new ProcessStartInfo("mono", "\"" + exe + "\" " + string.Join(" ", args.Select(a => "\"" + a + "\"")))
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = new UTF8Encoding(false),
                WorkingDirectory = Path.GetDirectoryName(exe),
            };
            process = new Process { StartInfo = info };
            process.OutputDataReceived += (s, e) =>
            {
                if (e.Data != null)
                {
                    lock (lines)
                    {
                        lines.Add(e.Data);
                    }
                }
            };
            process.ErrorDataReceived += (s, e) =>
            {
                if (e.Data != null)
                {
                    lock (errors)
                    {
                        errors.AppendLine(e.Data);
                    }
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            input = new StreamWriter(process.StandardInput.BaseStream, new UTF8Encoding(false));
        }

        /// <summary>Everything it printed so far (stdout, then stderr).</summary>
        public string Output
        {
            get
            {
                lock (lines)
                {
                    lock (errors)
                    {
                        return string.Join("\n", lines) + "\n" + errors;
                    }
                }
            }
        }

        public void Send(string line)
        {
            input.Write(line + "\n");
            input.Flush();
        }

        public void CloseInput()
        {
            input.Close();
        }

        /// <summary>Waits for the next line (after those taken) that matches; returns it.</summary>
        public string WaitLine(Func<string, bool> match, string what)
        {
            string found = null;
            Wait.Until(() =>
            {
                lock (lines)
                {
                    for (int i = taken; i < lines.Count; i++)
                    {
                        if (match(lines[i]))
                        {
                            found = lines[i];
                            taken = i + 1;
                            return true;
                        }
                    }
                    return false;
                }
            }, what + "; saw:\n" + Output);
            return found;
        }

        /// <summary>Waits until some line so far, read or not, matches; what was
        /// read stays read.</summary>
        public void WaitSeen(Func<string, bool> match, string what)
        {
            Wait.Until(() =>
            {
                lock (lines) return lines.Exists(l => match(l));
            }, what + "; saw:\n" + Output);
        }

        /// <summary>Waits for the process to end by itself; its exit status.</summary>
        public int WaitExit()
        {
            // A hang guard, not a timing assertion.
            if (!process.WaitForExit(60000))
            {
                Assert.Fail("the process did not end by itself:\n" + Output);
            }
            process.WaitForExit(); // the output is read to its end
            return process.ExitCode;
        }

        public void Dispose()
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10000);
                }
            }
            catch (Exception)
            {
                // Ended meanwhile.
            }
            process.Dispose();
        }
    }
}
