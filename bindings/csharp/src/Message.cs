using System;
using System.Text;

namespace P2PNode
{
    /// <summary>
    /// A received message: its exact bytes, and how p2pnetwork would present them
    /// (<see cref="MessageKind.Json"/>, <see cref="MessageKind.Text"/> or <see cref="MessageKind.Bytes"/>).
    /// </summary>
    public sealed class Message
    {
        private readonly byte[] data;
        private string text;

        /// <summary>Creates a message (mostly for tests; received messages come from the node).</summary>
        public Message(MessageKind kind, byte[] data, Compression compression)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            Kind = kind;
            this.data = data;
            Compression = compression;
        }

        /// <summary>JSON text, other text, or bytes that are not UTF-8.</summary>
        public MessageKind Kind { get; private set; }

        /// <summary>The compression the message travelled with.</summary>
        public Compression Compression { get; private set; }

        /// <summary>The message's exact bytes (a copy owned by this message; may be empty).</summary>
        public byte[] Data
        {
            get { return data; }
        }

        /// <summary>The message as text (JSON text for <see cref="MessageKind.Json"/>); null for <see cref="MessageKind.Bytes"/>.</summary>
        public string Text
        {
            get
            {
                if (text == null && Kind != MessageKind.Bytes)
                {
                    text = Encoding.UTF8.GetString(data);
                }
                return text;
            }
        }

        /// <summary>True when the message is JSON text (p2pnetwork would hand over a dict, list, number...).</summary>
        public bool IsJson
        {
            get { return Kind == MessageKind.Json; }
        }

        /// <summary>The text, or for bytes a hexadecimal rendering.</summary>
        public override string ToString()
        {
            if (Kind != MessageKind.Bytes)
            {
                return Text;
            }
            return "bytes[" + data.Length + "]: " + BitConverter.ToString(data);
        }
    }
}
