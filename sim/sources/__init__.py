"""Sources of items (samples and actions): scripted, recording playback, mouse, webcam, video.

Offline sources are iterables of :data:`sim.core.records.Item`. Live sources also offer
``poll() -> list[Item]``, which never blocks, so that the render loop never waits for them.
"""
