using System;
using System.Diagnostics;
using System.IO;
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
}
