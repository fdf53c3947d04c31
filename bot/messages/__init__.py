"""LINE message builders (text, quick replies, Flex). User-supplied text only ever goes into
``text`` fields, so a name like ``{"type":"flex"}`` or ``<script>`` is shown, never interpreted."""
