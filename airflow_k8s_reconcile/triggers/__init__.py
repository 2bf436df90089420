"""Triggers for deferrable operators and sensors; ``serialize()`` lists every constructor argument."""
